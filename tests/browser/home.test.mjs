// The console home (GET /admin): where signing in to the console lands. Tiles,
// five bar charts each with the same numbers as a table beside or below it,
// and the latest changes from the audit log. Everything is made through the
// console as an administrator would, then the home must tell the same story
// as the Users tab and the audit log.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addGroup, addProduct, addUser, describeViolations, inviteUser, launchBrowser, mainText, newPage, openSubTab,
  seriousViolations, signIn, startPortal,
} from './harness.mjs';

const ADA = { email: 'ada@example.org', password: 'copper meadow lantern 31', firstName: 'Ada', lastName: 'Lovelace' };
const GRACE = { email: 'grace@example.org', password: 'quantum lagoon pebble 77', firstName: 'Grace', lastName: 'Hopper' };
const ALAN = { email: 'alan@example.org', password: 'enigma orchard kettle 12', firstName: 'Alan', lastName: 'Turing' };
const KATHERINE = { email: 'katherine@example.org', firstName: 'Katherine', lastName: 'Johnson' };
const PRODUCT = 'Forecasts API';

const CHARTS = ['chart-accounts', 'chart-signups', 'chart-subscriptions', 'chart-products', 'chart-emails'];
const ACCOUNT_STATES = ['Active', 'Blocked', 'Pending'];
const SUBSCRIPTION_STATES = ['Waiting for approval', 'Active', 'Suspended', 'Rejected', 'Cancelled', 'Expired'];
const EMAIL_STATES = ['Queued', 'Retrying', 'Failed'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

let portal;
let browser;
let page; // signed in as the administrator
let shots; // where the chart screenshots go (not the repository)
let productPath; // the product's console page
let users; // what the Users tab shows: { total, byState: { Active: n, … } }
let subscriptionState; // the state the added subscription shows on the account

before(async () => {
  portal = await startPortal();
  browser = await launchBrowser();
  page = await newPage(browser, portal.baseUrl);
  shots = await mkdtemp(join(tmpdir(), 'portal-home-charts-'));
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

/** Loads the home, failing with what it shows when it is not a 200. */
async function openHome() {
  const res = await page.goto('/admin');
  assert.equal(res.status(), 200, `GET /admin answered ${res.status()}: ${await mainText(page)}`);
  return res;
}

/** Everything the charts say, read from the DOM in one go. */
function readCharts(p) {
  return p.$$eval('section.chart', (sections) => sections.map((s) => {
    const text = (el) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
    const svg = s.querySelector('svg');
    const refs = (svg?.getAttribute('aria-labelledby') ?? '').split(/\s+/).filter(Boolean);
    return {
      id: s.id,
      labelledby: s.getAttribute('aria-labelledby'),
      heading: (() => {
        const h = s.getAttribute('aria-labelledby') && document.getElementById(s.getAttribute('aria-labelledby'));
        return h ? { tag: h.tagName.toLowerCase(), text: text(h), inside: s.contains(h) } : null;
      })(),
      svg: svg && {
        role: svg.getAttribute('role'),
        refs: refs.map((id) => {
          const el = document.getElementById(id);
          return { id, tag: el?.tagName.toLowerCase() ?? null, text: text(el), inSvg: !!el && svg.contains(el) };
        }),
        bars: [...svg.querySelectorAll('g.bar')].map((g) => ({
          label: g.getAttribute('data-label'),
          value: g.getAttribute('data-value'),
          rects: g.querySelectorAll('rect').length,
          texts: g.querySelectorAll('text').length,
        })),
      },
      table: (() => {
        const t = s.querySelector('table');
        if (!t) return null;
        return {
          caption: text(t.querySelector('caption')),
          headers: [...t.querySelectorAll('thead th')].map(text),
          rows: [...t.querySelectorAll('tbody tr')].map((tr) => {
            const th = tr.querySelector('th');
            const td = tr.querySelector('td');
            return {
              th: th ? text(th) : null,
              scope: th?.getAttribute('scope') ?? null,
              td: td ? text(td) : null,
              colspan: td?.getAttribute('colspan') ?? null,
              links: th ? [...th.querySelectorAll('a')].map((a) => a.getAttribute('href')) : [],
            };
          }),
        };
      })(),
    };
  }));
}

/**
 * Checks what every chart must be (accessible name and description, one
 * table row per bar with the same label and number, in the same order) and
 * resolves to { id: { labels, values, rows, empty } }.
 */
async function checkCharts(p) {
  const charts = await readCharts(p);
  assert.deepEqual(charts.map((c) => c.id), CHARTS, 'the home shows the five charts, in this order');
  const out = {};
  for (const c of charts) {
    const at = `#${c.id}`;
    assert.equal(c.labelledby, `${c.id}-heading`, `${at} is labelled by its heading`);
    assert.ok(c.heading, `${at}: no element #${c.id}-heading`);
    assert.equal(c.heading.tag, 'h2', `${at}: its heading is an h2`);
    assert.ok(c.heading.inside && c.heading.text, `${at}: its heading is inside it and says something`);

    assert.ok(c.svg, `${at} has no svg`);
    assert.equal(c.svg.role, 'img', `${at}: the svg has role="img"`);
    assert.deepEqual(c.svg.refs.map((r) => r.id), [`${c.id}-title`, `${c.id}-desc`],
      `${at}: the svg is labelled by its title and desc`);
    const [title, desc] = c.svg.refs;
    assert.equal(title.tag, 'title', `${at}: #${title.id} is a <title>`);
    assert.equal(desc.tag, 'desc', `${at}: #${desc.id} is a <desc>`);
    assert.ok(title.inSvg && desc.inSvg, `${at}: the title and desc are inside the svg`);
    assert.ok(title.text, `${at}: the svg's title is empty`);
    assert.ok(desc.text, `${at}: the svg's desc is empty`);

    assert.ok(c.table, `${at} has no table`);
    assert.ok(c.table.caption, `${at}: the table has no caption (or an empty one)`);
    assert.ok(c.table.headers.length >= 2, `${at}: the table has no thead with column headers`);
    assert.ok(c.table.rows.length >= 1, `${at}: the table's tbody has no row`);

    const { bars } = c.svg;
    for (const b of bars) {
      assert.ok(b.rects >= 1 && b.texts >= 1, `${at}: bar ${b.label} has no rect or no text`);
      assert.match(b.value ?? '', /^\d+$/, `${at}: bar ${b.label} has data-value ${b.value}`);
    }
    if (bars.length === 0) {
      assert.equal(c.table.rows.length, 1, `${at} draws no bar, so its table has one row saying so`);
      const [row] = c.table.rows;
      assert.equal(row.colspan, '2', `${at}: the no-data row is one td with colspan="2"`);
      assert.ok(row.td, `${at}: the no-data row is empty`);
      out[c.id] = { labels: [], values: [], rows: c.table.rows, empty: row.td, desc: desc.text };
      continue;
    }
    assert.equal(c.table.rows.length, bars.length, `${at}: ${bars.length} bars but ${c.table.rows.length} table rows`);
    c.table.rows.forEach((row, i) => {
      const bar = bars[i];
      assert.equal(row.scope, 'row', `${at}: row ${i + 1} has no th scope="row"`);
      assert.equal(row.th, bar.label, `${at}: row ${i + 1} is ${row.th} but bar ${i + 1} is ${bar.label}`);
      assert.match(row.td ?? '', /^\d{1,3}(,\d{3})*$/, `${at}: ${row.th}'s number ${row.td} is not written like 1,234`);
      assert.equal(row.td.replace(/,/g, ''), bar.value, `${at}: ${row.th} is ${row.td} in the table but ${bar.value} in the chart`);
    });
    out[c.id] = {
      labels: bars.map((b) => b.label),
      values: bars.map((b) => Number(b.value)),
      rows: c.table.rows,
      empty: null,
      desc: desc.text,
    };
  }
  return out;
}

/** The value of the bar labelled `label`. */
function valueOf(chart, label, id) {
  const i = chart.labels.indexOf(label);
  assert.ok(i >= 0, `${id} has no bar ${label} (${chart.labels.join(', ')})`);
  return chart.values[i];
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(buf) {
  assert.ok(Buffer.isBuffer(buf) && buf.length > 24, 'the screenshot is empty');
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'the screenshot is not a PNG');
  assert.equal(buf.toString('ascii', 12, 16), 'IHDR', 'the PNG does not start with IHDR');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

/** The Mondays (UTC) of the last 12 weeks, oldest first, as { month, day }. */
function lastTwelveMondays(now = new Date()) {
  const sinceMonday = (now.getUTCDay() + 6) % 7;
  const monday = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - sinceMonday);
  return Array.from({ length: 12 }, (_, i) => {
    const d = new Date(monday - (11 - i) * 7 * 86_400_000);
    return { month: MONTHS[d.getUTCMonth()], day: d.getUTCDate() };
  });
}

test('signing in lands on the console home; a fresh portal has no product to chart', async () => {
  await signIn(page);
  await page.waitForURL('**/admin');
  await page.getByRole('heading', { level: 1, name: 'Home', exact: true }).waitFor();

  await openHome();
  const charts = await checkCharts(page);
  assert.deepEqual(charts['chart-products'].labels, [], 'no product has an active subscription yet, yet chart-products draws bars');
  assert.ok(charts['chart-products'].empty, 'chart-products says nothing about having no data');
  assert.deepEqual(charts['chart-accounts'].labels, ACCOUNT_STATES);
  assert.deepEqual(charts['chart-accounts'].values, [1, 0, 0], 'a fresh portal has one account, the administrator');
  assert.deepEqual(charts['chart-subscriptions'].labels, SUBSCRIPTION_STATES);
  assert.deepEqual(charts['chart-subscriptions'].values, [0, 0, 0, 0, 0, 0]);
  assert.equal(charts['chart-signups'].labels.length, 12);
});

test('set-up through the console: users, a product, groups, a subscription, an invitation, a block', async () => {
  await addProduct(page, { name: PRODUCT, description: 'Tomorrow’s weather' });
  productPath = new URL(page.url()).pathname;
  // Developers may see it, so it can be picked for an account.
  await openSubTab(page, 'Product', 'Access control');
  await page.getByLabel('Developers (system)', { exact: true }).check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'Saved access control' }).waitFor();

  const paths = {};
  for (const who of [ADA, GRACE, ALAN]) {
    await addUser(page, who);
    await page.getByRole('heading', { level: 1, name: `${who.firstName} ${who.lastName}` }).waitFor();
    paths[who.email] = new URL(page.url()).pathname;
  }
  // Enough changes that the home's ten latest are not the whole log.
  for (const name of ['Beta testers', 'Partners', 'Research']) await addGroup(page, { name });

  // Ada gets a subscription from the console. The administrator picks its
  // state there (the product's Approval required is for developers); the
  // form's default is Active, ticked here all the same.
  await page.goto(`${paths[ADA.email]}/subscriptions`);
  await page.getByRole('link', { name: 'Add subscription' }).click();
  await page.getByRole('heading', { level: 1, name: 'Add subscription' }).waitFor();
  await page.getByLabel('Product', { exact: true }).selectOption({ label: PRODUCT });
  await page.getByLabel('Active: the keys work at once').check();
  await page.getByRole('button', { name: 'Add subscription' }).click();
  await page.getByRole('status').filter({ hasText: `Subscribed ${ADA.email} to ${PRODUCT}.` }).waitFor();
  await page.goto(`${paths[ADA.email]}/subscriptions`);
  const row = page.getByRole('row').filter({ hasText: PRODUCT });
  const rowText = (await row.first().innerText()).replace(/\s+/g, ' ');
  subscriptionState = SUBSCRIPTION_STATES.find((s) => new RegExp(`\\b${s}\\b`).test(rowText));
  assert.equal(subscriptionState, 'Active', `Ada's subscription is not Active: ${rowText}`);

  await inviteUser(page, KATHERINE);
  await page.waitForURL('**/admin/users/pending');

  // The block comes last, so it is the newest change.
  await page.goto(paths[GRACE.email]);
  await page.getByRole('button', { name: 'Block', exact: true }).click();
  await page.getByRole('status').filter({ hasText: `Blocked ${GRACE.email}.` }).waitFor();

  // What the Users tab says, to hold the home to.
  await page.goto('/admin/users');
  const states = await page.locator('table tbody tr td span.state').allInnerTexts();
  const byState = {};
  for (const s of states.map((x) => x.trim())) byState[s] = (byState[s] ?? 0) + 1;
  users = { total: states.length, byState };
  assert.equal(users.total, 4, `the Users tab lists the administrator and three users: ${JSON.stringify(byState)}`);
  assert.deepEqual(byState, { Active: 3, Blocked: 1 }, 'the Users tab, by state');
});

test('the home: title, heading, the Home tab current, the brand link', async () => {
  await openHome();
  assert.equal(await page.title(), 'Home · Portal console');
  await page.getByRole('heading', { level: 1, name: 'Home', exact: true }).waitFor();
  const nav = page.getByRole('navigation', { name: 'Console' });
  const tabs = nav.getByRole('link');
  assert.equal((await tabs.first().innerText()).trim(), 'Home', 'Home is the first tab');
  assert.equal(await nav.getByRole('link', { name: 'Home', exact: true }).getAttribute('aria-current'), 'page');
  assert.equal(await page.locator('[aria-current="page"]').count(), 1, 'one tab only is the current page');
  assert.equal(await page.getByRole('link', { name: 'Portal console', exact: true }).getAttribute('href'), '/admin');

  // The other tabs lead back to Home through the brand link.
  await page.goto('/admin/users');
  assert.equal(await nav.getByRole('link', { name: 'Home', exact: true }).getAttribute('aria-current'), null,
    'Home is still the current tab on Users');
  await page.getByRole('link', { name: 'Portal console', exact: true }).click();
  await page.waitForURL('**/admin');
  await page.getByRole('heading', { level: 1, name: 'Home', exact: true }).waitFor();
});

test('the home: axe finds nothing serious, nothing is logged', async () => {
  page.consoleErrors.splice(0);
  await openHome();
  const violations = await seriousViolations(page);
  assert.deepEqual(violations.map((v) => v.id), [], `the console home has accessibility violations:\n${describeViolations(violations)}`);
  assert.deepEqual(page.consoleErrors.splice(0), [], 'the console home logged errors');
});

test('the home: each chart is a described image with a table of the same numbers', async () => {
  await openHome();
  const charts = await checkCharts(page);

  // Accounts by state: all three states, zeros included, as the Users tab says.
  const accounts = charts['chart-accounts'];
  assert.deepEqual(accounts.labels, ACCOUNT_STATES);
  assert.deepEqual(accounts.values, ACCOUNT_STATES.map((s) => users.byState[s] ?? 0),
    `Accounts by state against the Users tab ${JSON.stringify(users.byState)}`);
  assert.deepEqual(accounts.values, [3, 1, 0], 'Active: the administrator and two users; Blocked: one; Pending: none');

  // Sign-ups: twelve weeks, oldest first; everyone was made this week.
  const signups = charts['chart-signups'];
  assert.equal(signups.labels.length, 12, `Sign-ups per week has ${signups.labels.length} bars`);
  const mondays = lastTwelveMondays();
  signups.labels.forEach((label, i) => {
    const m = /^([A-Z][a-z]{2}) 0?(\d{1,2})$/.exec(label);
    assert.ok(m, `sign-up bar ${i + 1} is labelled ${label}, not like "Nov 30"`);
    assert.deepEqual({ month: m[1], day: Number(m[2]) }, mondays[i],
      `sign-up bar ${i + 1} is ${label}, not the Monday of its week (${mondays[i].month} ${mondays[i].day})`);
  });
  assert.deepEqual(signups.values, [...Array(11).fill(0), users.total],
    `Sign-ups per week: all ${users.total} accounts (the administrator included) were made this week`);

  // Subscriptions by state: all six, Ada's in its state.
  const subs = charts['chart-subscriptions'];
  assert.deepEqual(subs.labels, SUBSCRIPTION_STATES);
  assert.deepEqual(subs.values, SUBSCRIPTION_STATES.map((s) => (s === subscriptionState ? 1 : 0)),
    `Subscriptions by state: one ${subscriptionState}`);

  // Top products: the one product, with its active subscription, linked to its page.
  const products = charts['chart-products'];
  if (subscriptionState === 'Active') {
    assert.deepEqual(products.labels, [PRODUCT]);
    assert.deepEqual(products.values, [1]);
    const [row] = products.rows;
    assert.equal(row.links.length, 1, `chart-products: the row ${row.th} holds no link`);
    assert.equal(new URL(row.links[0], portal.baseUrl).pathname, productPath, 'chart-products links the product\'s console page');
  } else {
    assert.deepEqual(products.labels, []);
  }

  // Emails waiting or failed: always all three.
  const emails = charts['chart-emails'];
  assert.deepEqual(emails.labels, EMAIL_STATES);

  // A desc states the numbers in words.
  assert.match(accounts.desc, /\b(3|three)\b/i, `chart-accounts' desc does not give the numbers: ${accounts.desc}`);
  assert.match(subs.desc, /\b(1|one)\b/i, `chart-subscriptions' desc does not give the numbers: ${subs.desc}`);
});

test('the home: each chart shows its table beside or below it (screenshots)', async (t) => {
  await openHome();
  const sections = page.locator('section.chart');
  assert.equal(await sections.count(), CHARTS.length);
  const inside = (box, outer) => box.x >= outer.x - 1 && box.y >= outer.y - 1
    && box.x + box.width <= outer.x + outer.width + 1 && box.y + box.height <= outer.y + outer.height + 1;
  for (const id of CHARTS) {
    const section = page.locator(`section.chart#${id}`);
    const svg = section.locator('svg').first();
    const table = section.locator('table').first();
    await section.scrollIntoViewIfNeeded();
    const png = await section.screenshot();
    const size = pngSize(png);
    assert.ok(size.width > 0 && size.height > 0, `#${id}: the screenshot is ${size.width}×${size.height}`);
    const file = join(shots, `${id}.png`);
    await writeFile(file, png);

    assert.ok(await svg.isVisible(), `#${id}: the chart is not visible (${file})`);
    assert.ok(await table.isVisible(), `#${id}: the table is not visible (${file})`);
    const box = await section.boundingBox();
    const chart = await svg.boundingBox();
    const tableBox = await table.boundingBox();
    assert.ok(chart.width > 0 && chart.height > 0, `#${id}: the chart is ${chart.width}×${chart.height}`);
    assert.ok(tableBox.width > 0 && tableBox.height > 0, `#${id}: the table is ${tableBox.width}×${tableBox.height}`);
    assert.ok(inside(chart, box), `#${id}: the chart ${JSON.stringify(chart)} spills out of its section ${JSON.stringify(box)} (${file})`);
    assert.ok(inside(tableBox, box), `#${id}: the table ${JSON.stringify(tableBox)} spills out of its section ${JSON.stringify(box)} (${file})`);
    const below = tableBox.y >= chart.y + chart.height - 1;
    const beside = tableBox.x >= chart.x + chart.width - 1 || tableBox.x + tableBox.width <= chart.x + 1;
    assert.ok(below || beside, `#${id}: the table ${JSON.stringify(tableBox)} overlaps the chart ${JSON.stringify(chart)} (${file})`);
  }
  t.diagnostic(`chart screenshots in ${shots}`);
});

test('the home: the pending invitations tile counts the open invitation and leads to them', async () => {
  await openHome();
  const tile = page.locator('ul.tiles > li a#pending-invitations');
  assert.equal(await tile.count(), 1, 'no a#pending-invitations in ul.tiles > li');
  assert.equal(await tile.getAttribute('href'), '/admin/users/pending');
  const text = (await tile.innerText()).replace(/\s+/g, ' ').trim();
  assert.match(text, /(^|\D)1 pending invitation(?!s)/, `the tile says "${text}"`);
  await tile.click();
  await page.waitForURL('**/admin/users/pending');
  await page.getByRole('row').filter({ hasText: KATHERINE.email }).waitFor();
});

test('the home: the latest changes are the audit log\'s newest, with the block', async () => {
  // The audit log's own count of entries (its first page holds more than ten).
  await page.goto('/admin/audit');
  const logged = await page.locator('table tbody tr').count();
  assert.ok(logged > 10, `expected more than ten audit entries, found ${logged}`);

  await openHome();
  const region = page.getByRole('region', { name: 'Latest changes', exact: true });
  assert.equal(await region.count(), 1, 'no region named Latest changes');
  assert.equal(await region.getAttribute('id'), 'latest-changes');
  assert.equal(await region.getAttribute('aria-labelledby'), 'latest-changes-heading');
  await region.getByRole('heading', { level: 2, name: 'Latest changes', exact: true }).waitFor();
  const table = region.getByRole('table');
  const headers = (await table.locator('thead th').allInnerTexts()).map((h) => h.trim());
  for (const h of ['When', 'Who', 'What']) assert.ok(headers.includes(h), `Latest changes has no ${h} column (${headers.join(', ')})`);
  const rows = await table.locator('tbody tr').allInnerTexts();
  assert.equal(rows.length, 10, `Latest changes shows ${rows.length} entries, not the last ten`);
  const all = rows.join('\n');
  assert.ok(all.includes(GRACE.email) || /Blocked|account\.blocked/.test(all),
    `Latest changes does not mention blocking ${GRACE.email}:\n${all}`);
  assert.match(rows[0], new RegExp(`Blocked|${GRACE.email.replace(/\./g, '\\.')}`), `the newest change is not the block: ${rows[0]}`);
  const more = region.getByRole('link', { name: 'All changes', exact: true });
  assert.equal(await more.getAttribute('href'), '/admin/audit');
});

test('the home works without JavaScript', async () => {
  const noJs = await newPage(browser, portal.baseUrl, { javaScriptEnabled: false });
  try {
    await signIn(noJs);
    await noJs.waitForURL('**/admin');
    await noJs.getByRole('heading', { level: 1, name: 'Home', exact: true }).waitFor();
    for (const id of CHARTS) {
      const section = noJs.locator(`section.chart#${id}`);
      assert.ok(await section.locator('svg').first().isVisible(), `#${id}: no chart without JavaScript`);
      assert.ok(await section.locator('table').first().isVisible(), `#${id}: no table without JavaScript`);
    }
    const bars = await noJs.locator('#chart-accounts g.bar').count();
    assert.equal(bars, ACCOUNT_STATES.length, 'the accounts chart is drawn by the server');
    assert.deepEqual(noJs.consoleErrors, []);
  } finally {
    await noJs.context().close();
  }
});
