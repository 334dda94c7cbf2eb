/** Deployment options: dual-stack, Elastic IPs, Route 53, secret headers, KMS, VPC endpoints, context parsing, flags, image. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildApp, FEATURE_FLAGS, type BuildOptions } from '../lib/app.js';
import { parseContext, type ContextKey } from '../lib/context.js';
import type { GatewayConfigInput } from '../lib/gateway-config.js';
import { loadConfig } from '../../app/config/load.js';

type Json = Record<string, unknown>;
const base: GatewayConfigInput = { listeners: [{ name: 'l', port: 5555, destinations: [{ type: 'lambda', functionName: 'f' }] }] };
function synth(opts: Partial<BuildOptions> = {}, config: GatewayConfigInput = base): Template {
  const { app, stack } = buildApp({ config, image: 'parameter', ...opts });
  app.synth();
  return Template.fromStack(stack);
}
const resources = (t: Template, type: string) => Object.values(t.findResources(type)) as { Properties: Json }[];
const gateway = (t: Template) => (resources(t, 'AWS::ECS::TaskDefinition')[0]!.Properties.ContainerDefinitions as Json[]).find((c) => c.Name === 'gateway')!;

describe('dual-stack', () => {
  const t = synth({ dualStack: true });
  it('creates a dual-stack NLB with IPv6 source NAT and IPv6 UDP target groups', () => {
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { IpAddressType: 'dualstack', EnablePrefixForIpv6SourceNat: 'on' });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Protocol: 'UDP', IpAddressType: 'ipv6' });
  });
  it('gives the task subnets IPv6 and opens the listener to the ClientIpv6Cidr parameter', () => {
    t.hasResourceProperties('AWS::EC2::VPCCidrBlock', { AmazonProvidedIpv6CidrBlock: true });
    t.hasResourceProperties('AWS::EC2::SecurityGroup', { SecurityGroupIngress: Match.arrayWith([Match.objectLike({ CidrIpv6: { Ref: 'ClientIpv6Cidr' }, FromPort: 5555 })]) });
  });
  it('lets the tasks send to IPv6 clients (out-of-band packets)', () => {
    t.hasResourceProperties('AWS::EC2::SecurityGroup', { GroupDescription: Match.stringLikeRegexp('udp-gateway tasks'),
      SecurityGroupEgress: Match.arrayWith([Match.objectLike({ CidrIpv6: '::/0', IpProtocol: '-1' })]) });
  });
  it('binds listeners and the admin API to :: in the stored config', () => {
    expect(JSON.stringify(resources(t, 'AWS::SSM::Parameter')[0]!.Properties.Value)).toContain('\\"host\\":\\"::\\"');
  });
});

describe('fixed addresses and a name', () => {
  const t = synth({ elasticIps: true, route53: { hostedZoneId: 'Z123', zoneName: 'example.com', recordName: 'gw.example.com' } });
  it('maps one Elastic IP per AZ onto the NLB and outputs the addresses', () => {
    t.resourceCountIs('AWS::EC2::EIP', 4); // two for the NAT gateways, two for the NLB
    const nlb = resources(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer')[0]!.Properties;
    expect(nlb.SubnetMappings).toEqual([0, 1].map(() => ({ AllocationId: { 'Fn::GetAtt': [expect.stringMatching(/^NlbAddress/), 'AllocationId'] }, SubnetId: expect.anything() })));
    expect(t.toJSON().Outputs).toHaveProperty('LoadBalancerAddresses');
  });
  it('aliases the record to the NLB', () => {
    t.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'gw.example.com.', Type: 'A', HostedZoneId: 'Z123',
      AliasTarget: Match.objectLike({ DNSName: Match.anyValue() }) });
  });
});

describe('HTTP headers from Secrets Manager', () => {
  const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:gw/backend-AbCdEf';
  const cfg: GatewayConfigInput = { listeners: [{ name: 'l', port: 5555, destinations: [
    { type: 'lambda', functionName: 'f' },
    { type: 'http', url: 'https://api.example.com/in', headers: { 'x-team': 'udp', Authorization: { secretsManager: arn, jsonKey: 'token' } } },
  ] }] };
  const t = synth({}, cfg);
  it('keeps the secret out of the stored config and injects it into the gateway\'s environment override', () => {
    const stored = JSON.stringify(resources(t, 'AWS::SSM::Parameter')[0]!.Properties.Value);
    expect(stored).not.toContain('secretsmanager');
    expect(stored).toContain('x-team');
    const secrets = gateway(t).Secrets as { Name: string; ValueFrom: unknown }[];
    expect(secrets).toContainEqual({ Name: 'UDPGW_CONFIG__listeners__0__destinations__1__headers__Authorization', ValueFrom: `${arn}:token::` });
  });
  it('the gateway puts the injected value back into the header at start', () => {
    const stored = resources(t, 'AWS::SSM::Parameter')[0]!.Properties.Value as { 'Fn::Join': [string, unknown[]] };
    const json = stored['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : 'https://sqs.eu-west-1.amazonaws.com/111122223333/q')).join('');
    const env = { UDPGW_CONFIG_JSON: json, UDPGW_SECRET: 's'.repeat(32), UDPGW_CONFIG__listeners__0__destinations__1__headers__Authorization: 'Bearer from-secrets-manager' };
    const http = loadConfig({ env }).listeners[0]!.destinations[1]!;
    expect(http.options.headers).toEqual({ 'x-team': 'udp', Authorization: 'Bearer from-secrets-manager' });
  });
  it('lets the execution role read that secret', () => {
    expect(JSON.stringify(t.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('ExecutionRole') } }))).toContain(arn);
  });
  it('refuses a credential header in clear', () => {
    const plain: GatewayConfigInput = { listeners: [{ name: 'l', port: 5555, destinations: [{ type: 'http', url: 'https://x', headers: { Authorization: 'Bearer abc' } }] }] };
    expect(() => synth({}, plain)).toThrow(/Authorization looks like a credential/);
  });
});

describe('customer-managed KMS keys and VPC endpoints', () => {
  it('grants data keys and decrypt on the listed keys', () => {
    const key = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const t = synth({ kmsKeyArns: [key] });
    expect(JSON.stringify(t.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('TaskRole') } })))
      .toMatch(new RegExp(`"Action":\\["kms:Decrypt","kms:GenerateDataKey"\\],"Effect":"Allow","Resource":"${key}"`));
  });
  it('adds interface endpoints on request, and runs without NAT only with them', () => {
    const t = synth({ vpcEndpoints: true, natGateways: 0 });
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    expect(resources(t, 'AWS::EC2::VPCEndpoint').filter((e) => e.Properties.VpcEndpointType === 'Interface')).toHaveLength(8);
    expect(() => synth({ natGateways: 0 })).toThrow(/natGateways=0 needs vpcEndpoints=true/);
  });
});

describe('cdk context', () => {
  const ctx = (values: Partial<Record<ContextKey, string>>) => parseContext((k) => values[k]);
  it('turns context values into stack options', () => {
    expect(ctx({ desiredCount: '3', minTasks: '2', maxTasks: '20', cpu: '1024', memory: '2048', dualStack: 'true', ssmTier: 'advanced' }).options)
      .toEqual({ desiredCount: 3, minTasks: 2, maxTasks: 20, cpu: 1024, memoryMiB: 2048, dualStack: true, ssmTier: 'advanced' });
    expect(ctx({ image: 'parameter' }).image).toBe('parameter');
  });
  it('refuses values it does not understand', () => {
    let message = '';
    try { ctx({ desiredCount: 'two', ssmTier: 'huge', domainName: 'gw.example.com' }); } catch (e) { message = (e as Error).message; }
    for (const m of ['desiredCount=two', 'ssmTier=huge', 'go together']) expect(message).toContain(m);
  });
  it('feeds the sizing parameters\' defaults', () => {
    const params = synth({ desiredCount: 3, minTasks: 3, maxTasks: 30, cpu: 1024, memoryMiB: 2048 }).toJSON().Parameters as Record<string, { Default: unknown }>;
    expect([params.DesiredCount!.Default, params.MinTasks!.Default, params.MaxTasks!.Default, params.TaskCpu!.Default, params.TaskMemory!.Default])
      .toEqual([3, 3, 30, 1024, 2048]);
  });
});

describe('cdk.json', () => {
  it('sets every feature flag aws-cdk-lib recommends, and the tests synthesise with them', () => {
    expect(FEATURE_FLAGS).toEqual(cxapi.CURRENTLY_RECOMMENDED_FLAGS);
  });
});

describe('container image', () => {
  const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
  it('takes the Node.js version as a build argument, defaulting to the current LTS line', () => {
    expect(dockerfile).toMatch(/^ARG NODE_VERSION=26$/m);
    expect(dockerfile.match(/^FROM node:\$\{NODE_VERSION\}-/gm)).toHaveLength(2);
  });
  it('declares the writable data directory the task mounts, owned by the image user', () => {
    expect(dockerfile).toMatch(/chown node:node \/app\/data/);
    expect(dockerfile).toMatch(/^VOLUME \["\/app\/data"\]$/m);
  });
});
