import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests bind real sockets and start moto_server; two cores, two forks.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    // The AWS SDK warns once per process, on Node < 22, that its releases after January 2027 will
    // need Node 22: true, and known; in the tests it only buries their output. This is the SDK's own
    // switch (@aws-sdk/core emitWarningIfUnsupportedVersion), set for the test processes and the
    // CLI processes they start, never by the gateway itself, so users still see it at run time.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
