// What the page-driven tests share: finding a tree row as a person reads it, and choosing a
// context-menu entry.
import type { Page } from 'playwright-core';

/** The explorer row whose label is `label`. */
export const treeRow = (page: Page, label: string) =>
  page.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: label }) }).first();

/**
 * Right-clicks the row `label` and chooses `entry` from its context menu, as a keyboard user
 * does: point at the entry until the menu marks it focused, then Enter. (VS Code's menus act on
 * mouse-up and ignore one that comes too soon after they open, which an instant synthetic click
 * sometimes is: the menu then stays open and nothing runs.)
 */
export async function chooseFromContextMenu(page: Page, label: string, entry: string, timeout: number): Promise<void> {
  await treeRow(page, label).click({ button: 'right' });
  const item = page.locator('.context-view .action-item', { hasText: entry }).first();
  await item.waitFor({ state: 'visible', timeout });
  await item.hover();
  await page.locator('.context-view .action-item.focused', { hasText: entry }).first().waitFor({ timeout });
  await page.keyboard.press('Enter');
}
