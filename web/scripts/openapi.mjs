// Writes web/openapi.json from the service's own code (`restaurant openapi`), the input
// of the generated client in src/client (`npm run generate`).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const web = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const venv = path.join(web, "..", ".venv", "bin", "restaurant");
const command = process.env.RESTAURANT_BIN ?? (existsSync(venv) ? venv : "restaurant");
execFileSync(command, ["openapi", "--output", path.join(web, "openapi.json")], {
  cwd: path.join(web, ".."),
  stdio: "inherit",
});
