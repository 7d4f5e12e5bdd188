import { defineConfig, devices } from "@playwright/test";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

// The browser tests drive Debian's Chromium (never a browser a test tool downloads)
// against the service itself, started by e2e/server.py on SQLite and, when
// TEST_POSTGRES_URL is set, on PostgreSQL too: one project and one server for each.
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const python = process.env.RESTAURANT_PYTHON ?? path.resolve(here, "../.venv/bin/python");
const databases = ["sqlite", ...(process.env.TEST_POSTGRES_URL ? ["postgres"] : [])];
// E2E_PORT moves the two servers (default 8101 and 8102), and E2E_DB_NAME their
// PostgreSQL database (default restaurant_e2e), for runs side by side.
const BASE = Number(process.env.E2E_PORT ?? 8101);
const DB_NAME = process.env.E2E_DB_NAME ?? "restaurant_e2e";
const PORTS: Record<string, number> = { sqlite: BASE, postgres: BASE + 1 };

export const mailDir = (database: string) => path.resolve(here, "test-results", `mail-${database}`);

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results/artifacts",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: process.env.CI ? [["list"]] : [["list"]],
  use: {
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: chromium,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
      ],
    },
  },
  projects: databases.map((database) => ({
    name: database,
    use: {
      ...devices["Desktop Chrome"],
      baseURL: `http://127.0.0.1:${PORTS[database]}`,
      channel: undefined,
    },
    metadata: { database, mailDir: mailDir(database) },
  })),
  webServer: databases.map((database) => ({
    command: `${python} e2e/server.py --database ${database} --port ${PORTS[database]} --mail-dir ${mailDir(database)} --name ${DB_NAME}`,
    url: `http://127.0.0.1:${PORTS[database]}/health/ready`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    stderr: "pipe",
  })),
});
