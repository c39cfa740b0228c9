// Saves the gateway's merged OpenAPI document as openapi.json (input of `npm run generate`).
import { writeFile } from "node:fs/promises";

const gateway = process.env.KKB_GATEWAY_URL ?? "http://127.0.0.1:8000";
const response = await fetch(`${gateway}/openapi.json`);
if (!response.ok) {
  throw new Error(`GET ${gateway}/openapi.json answered ${response.status}`);
}
const document = await response.json();
const missing = document.info?.["x-kkb-missing-services"];
if (missing?.length) {
  throw new Error(`the gateway could not reach ${missing.join(", ")}; try again`);
}
await writeFile("openapi.json", JSON.stringify(document, null, 2));
console.log(`openapi.json: ${Object.keys(document.paths).length} paths`);
