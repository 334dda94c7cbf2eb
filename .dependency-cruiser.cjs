/**
 * The layering, checked on every `npm test` (docs/architecture.md). Each layer imports only the ones
 * below it:   app/  >  plugins (destinations/, packet-source/, listener-protocols/, formatters/, routers/)
 *             >  aws/ (AWS SDK glue shared by AWS plugins)  >  net/  >  gateway/ (the core)
 * Plugins reach the core only through gateway/plugin-kit.ts, and never import one another.
 */
const PLUGINS = '^(destinations|packet-source|listener-protocols|formatters|routers)/';
module.exports = {
  forbidden: [
    {
      name: 'core-imports-nothing-above',
      comment: 'The core (gateway/) knows no plugin, no net implementation and no application code.',
      severity: 'error',
      from: { path: '^gateway/' },
      to: { path: '^(net|aws|app|destinations|packet-source|listener-protocols|formatters|routers)/' },
    },
    {
      name: 'net-imports-only-the-core',
      comment: 'The net layer (node:dgram and the native addon) sits on the core only.',
      severity: 'error',
      from: { path: '^net/' },
      to: { path: '^(aws|app|destinations|packet-source|listener-protocols|formatters|routers)/' },
    },
    {
      name: 'aws-glue-imports-no-plugin',
      severity: 'error',
      from: { path: '^aws/' },
      to: { path: `^(app|net)/|${PLUGINS}` },
    },
    {
      name: 'plugins-reach-the-core-through-the-kit',
      comment: 'A plugin imports gateway/plugin-kit.ts, not the core\'s internals (the publisher library is a client, not a plugin).',
      severity: 'error',
      from: { path: PLUGINS, pathNot: '^packet-source/publisher/' },
      to: { path: '^gateway/', pathNot: '^gateway/plugin-kit\\.ts$' },
    },
    {
      name: 'plugins-do-not-import-the-app',
      severity: 'error',
      from: { path: PLUGINS },
      to: { path: '^app/' },
    },
    {
      name: 'no-plugin-imports-another',
      comment: 'Each kind lives in its own folder; shared code belongs in the core (through the kit) or aws/.',
      severity: 'error',
      from: { path: '^(destinations|packet-source|listener-protocols|formatters|routers)/([^/]+)/' },
      to: { path: PLUGINS, pathNot: '^$1/$2/' },
    },
    {
      name: 'no-circular',
      comment: 'One known, intended cycle: the WireGuard handshake flow flushes packets queued for a new session, and the transport flow starts a handshake when a packet has no session (mutual recursion of two halves of one state machine).',
      severity: 'error',
      from: { pathNot: '^listener-protocols/wireguard/(handshake|transport)-flow\\.ts$' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|infra|test|bench)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.build.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
