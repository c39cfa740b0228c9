// Signs in through the gateway and reads one region with the generated client.
//
//   KKB_GATEWAY_URL=http://127.0.0.1:8000 KKB_USERNAME=… KKB_PASSWORD=… \
//     KKB_REGION=61.04.16.2007 npm run example
//
// Prints one JSON line: the region's code, name, level and the codes above it.

import { createClient } from "../src/client/client";
import { gatewayIssueToken, registryGetRegion } from "../src/client";

// The few Node globals used here (no @types/node needed for a proof).
declare const process: {
  env: Record<string, string | undefined>;
  exitCode?: number;
};

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`set ${name}`);
  }
  return value;
}

async function main(): Promise<void> {
  const baseUrl = process.env.KKB_GATEWAY_URL ?? "http://127.0.0.1:8000";
  const code = process.env.KKB_REGION ?? "61.04.16.2007";

  const anonymous = createClient({ baseUrl });
  const token = await gatewayIssueToken({
    client: anonymous,
    body: {
      grant_type: "password",
      username: required("KKB_USERNAME"),
      password: required("KKB_PASSWORD"),
    },
    throwOnError: true,
  });

  const signedIn = createClient({ baseUrl, auth: token.data.access_token });
  const region = await registryGetRegion({
    client: signedIn,
    path: { code },
    throwOnError: true,
  });

  const ancestors: string[] = region.data.ancestors.map((a) => a.code);
  console.log(
    JSON.stringify({
      code: region.data.code,
      name: region.data.name,
      level: region.data.level,
      ancestors,
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
