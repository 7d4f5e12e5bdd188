import { defineConfig } from "@hey-api/openapi-ts";

// The typed client for the service's API, generated from its OpenAPI document
// (`npm run generate`; CI fails when the committed client differs from a fresh one).
export default defineConfig({
  input: "openapi.json",
  output: { path: "src/client", format: null, lint: null },
  plugins: ["@hey-api/typescript", "@hey-api/sdk", "@hey-api/client-fetch"],
});
