/** moto specifics used by the tests: an IAM role (Lambda and Step Functions check it exists). */
export async function createMotoRole(endpoint: string, roleName: string): Promise<string> {
  const form = new URLSearchParams({
    Action: 'CreateRole', Version: '2010-05-08', RoleName: roleName,
    AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
  });
  // moto routes by the service named in the credential scope; it does not verify signatures.
  const res = await fetch(endpoint, {
    method: 'POST', body: form,
    headers: { authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00' },
  });
  const text = await res.text();
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(text)?.[1];
  if (!res.ok || !arn) throw new Error(`moto CreateRole failed: HTTP ${res.status} ${text.slice(0, 300)}`);
  return arn;
}
