import { expect, test, type Page } from "@playwright/test";
import { createServer, type Server } from "node:http";
import { restaurantDate } from "./helpers";

// The widget on the restaurant's own website, in an iframe: the site FRAME_ANCESTORS
// names may frame it (e2e/server.py allows http://localhost:8109), no other may. Each
// "website" is a real server on loopback whose page holds the iframe.
const OWN_SITE = 8109;
const OTHER_SITE = 8110;

function website(port: number, app: string): Promise<Server> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { "Content-Type": "text/html" });
    response.end(`<!doctype html><html lang="en"><title>Our restaurant</title><h1>Welcome</h1>
      <iframe id="booking" title="Book a table" src="${app}/" width="420" height="900"></iframe>`);
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

async function visit(page: Page, port: number, app: string): Promise<Server> {
  const server = await website(port, app);
  await page.goto(`http://localhost:${port}/`);
  return server;
}

test("the restaurant's own site frames the widget, and it works there", async ({ page, baseURL }) => {
  const server = await visit(page, OWN_SITE, baseURL!);
  try {
    const frame = page.frameLocator("#booking");
    await expect(frame.getByRole("heading", { level: 1 })).toHaveText("Book a table at Trattoria Test");
    const tomorrow = frame.locator(`button.day[data-date="${restaurantDate(1)}"]`);
    if (!(await tomorrow.isVisible())) await frame.getByRole("button", { name: "Next month" }).click();
    await tomorrow.click();
    await expect(frame.getByRole("button", { name: "19:00, free" })).toBeVisible();
  } finally {
    server.close();
  }
});

test("another site cannot frame it", async ({ page, baseURL }) => {
  const refused: string[] = [];
  page.on("console", (message) => refused.push(message.text()));
  const server = await visit(page, OTHER_SITE, baseURL!);
  try {
    await expect.poll(() => refused.some((text) => text.includes("frame-ancestors"))).toBe(true);
    // Chromium shows its own error page in the frame instead of the app.
    await expect.poll(() => page.frames().some((frame) => frame.url().startsWith("chrome-error://"))).toBe(true);
    expect(page.frames().some((frame) => frame.url().startsWith(baseURL!))).toBe(false);
  } finally {
    server.close();
  }
});
