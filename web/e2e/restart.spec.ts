import { expect, test } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

// The kitchen display survives a server restart mid-service: its server is killed, the
// kitchen goes on through a second server on the same database, and when the first comes
// back the display shows everything it missed, without a reload.
const here = path.dirname(fileURLToPath(import.meta.url));
const python = process.env.RESTAURANT_PYTHON ?? path.resolve(here, "../../.venv/bin/python");
const STAFF = { email: "staff@example.com", password: "staff-password" };

function serve(database: string, port: number, dir: string, keep: boolean): ChildProcess {
  const args = [path.join(here, "server.py"), "--database", database, "--port", String(port),
    "--mail-dir", path.join(dir, `mail-${port}`), "--name", "restaurant_e2e_restart", "--data-dir", dir];
  if (keep) args.push("--keep");
  return spawn(python, args, { env: { ...process.env, E2E_SECRET_KEY: "restart-test-secret-key-0123456789abcdef" }, stdio: "ignore" });
}

async function ready(base: string): Promise<void> {
  await expect
    .poll(async () => (await fetch(`${base}/health/ready`).catch(() => null))?.status ?? 0, { timeout: 60_000 })
    .toBe(200);
}

test("the kitchen display comes back after a server restart and shows every event it missed", async ({ page, request }, info) => {
  test.setTimeout(180_000);
  const database = info.project.metadata.database as string;
  const [portA, portB] = database === "postgres" ? [8105, 8106] : [8103, 8104];
  const [a, b] = [`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`];
  const dir = mkdtempSync(path.join(tmpdir(), "restaurant-restart-"));
  let first = serve(database, portA, dir, false);
  const children = [first];
  try {
    await ready(a);
    const second = serve(database, portB, dir, true);
    children.push(second);
    await ready(b);

    const token = (await (await request.post(`${b}/auth/login`, { data: STAFF })).json()).access_token as string;
    const auth = { Authorization: `Bearer ${token}` };
    const menu = (await (await request.get(`${b}/api/menu`)).json()) as { id: number; category: string; name: string }[];
    const dish = menu.find((m) => m.category === "mains")!;
    const free = (await (await request.get(`${b}/api/tables/available/?party_size=2`, { headers: auth })).json()) as { id: number; table_number: number }[];
    const order = async (table: { id: number }) => {
      const sent = await request.post(`${b}/api/orders`, {
        headers: auth,
        data: { table_id: table.id, customer_count: 2, items: [{ menu_item_id: dish.id, quantity: 1 }] },
      });
      expect(sent.status(), await sent.text()).toBe(201);
      return (await sent.json()) as { id: number };
    };

    await page.setViewportSize({ width: 1024, height: 768 });
    await page.goto(`${a}/staff/kitchen`);
    await page.getByLabel("E-mail").fill(STAFF.email);
    await page.getByLabel("Password").fill(STAFF.password);
    await page.getByRole("button", { name: "Sign in and continue" }).click();
    await expect(page.getByText("Live", { exact: true })).toBeVisible();
    const one = await order(free[0]);
    await expect(page.getByRole("article", { name: new RegExp(`table ${free[0].table_number}, pending`) })).toBeVisible();

    first.kill("SIGKILL");
    await expect(page.getByText("Reconnecting…", { exact: true })).toBeVisible();
    // Meanwhile, through the other server: the first ticket moves on, a second order comes.
    const tickets = (await (await request.get(`${b}/api/kitchen/orders`, { headers: auth })).json()) as { id: number; order_id: number }[];
    const ticket = tickets.find((t) => t.order_id === one.id)!;
    expect((await request.put(`${b}/api/kitchen/orders/${ticket.id}`, { headers: auth, data: { status: "preparing" } })).status()).toBe(200);
    await order(free[1]);

    first = serve(database, portA, dir, true);
    children.push(first);
    await ready(a);
    await expect(page.getByText("Live", { exact: true })).toBeVisible({ timeout: 30_000 });
    await expect(page.getByRole("article", { name: new RegExp(`table ${free[0].table_number}, preparing`) })).toBeVisible();
    await expect(page.getByRole("article", { name: new RegExp(`table ${free[1].table_number}, pending`) })).toBeVisible();
  } finally {
    for (const child of children) child.kill("SIGKILL");
  }
});
