// Chrome 81 guard: the terminal app runs on Android 4.4 terminals whose last browser is
// Chrome 81. Every script under terminal_app/web must parse as ES2020 (acorn refuses ??=,
// ||=, &&=, numeric separators, class fields, top-level await...) and use no API or CSS
// that came later. Run with `node --test tests/js/` (scripts/test does).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as acorn from "acorn";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const WEB = join(ROOT, "terminal_app", "web");

// Properties and globals newer than Chrome 81 (the version that brought each in brackets).
const NEW_MEMBERS = new Map(Object.entries({
  replaceAll: "String.replaceAll (Chrome 85)",
  at: "Array/String .at() (Chrome 92)",
  hasOwn: "Object.hasOwn (Chrome 93)",
  findLast: "Array.findLast (Chrome 97)",
  findLastIndex: "Array.findLastIndex (Chrome 97)",
  randomUUID: "crypto.randomUUID (Chrome 92)",
  replaceChildren: "Element.replaceChildren (Chrome 86)",
  toSorted: "Array.toSorted (Chrome 110)",
  toReversed: "Array.toReversed (Chrome 110)",
  toSpliced: "Array.toSpliced (Chrome 110)",
  any: "Promise.any (Chrome 85)",
  groupBy: "Object.groupBy (Chrome 117)",
  fromAsync: "Array.fromAsync (Chrome 121)",
}));
const NEW_GLOBALS = new Map(Object.entries({
  structuredClone: "structuredClone (Chrome 98)",
  AggregateError: "AggregateError (Chrome 85)",
  WeakRef: "WeakRef (Chrome 84)",
  FinalizationRegistry: "FinalizationRegistry (Chrome 84)",
}));
// CSS that Chrome 81 ignores: [pattern, what it is].
const NEW_CSS = [
  [/(^|[;{\s])(row-|column-)?gap\s*:/, "gap (flexbox gap is Chrome 84: use margins, or grid-gap)"],
  [/aspect-ratio\s*:/, "aspect-ratio (Chrome 88)"],
  [/(^|[;{\s])inset(-block|-inline)?\s*:/, "inset (Chrome 87)"],
  [/:is\(/, ":is() (Chrome 88)"],
  [/:where\(/, ":where() (Chrome 88)"],
  [/:has\(/, ":has() (Chrome 105)"],
  [/:focus-visible/, ":focus-visible (Chrome 86)"],
  [/@container/, "@container (Chrome 105)"],
  [/@layer/, "@layer (Chrome 99)"],
  [/accent-color\s*:/, "accent-color (Chrome 93)"],
  [/color-mix\(/, "color-mix() (Chrome 111)"],
  [/[0-9.](dvh|svh|lvh|dvw|svw|lvw)\b/, "dynamic viewport units (Chrome 108)"],
  [/(^|[\s;{}])&[\s.:#[>+~]/, "CSS nesting (Chrome 112)"],
];

function filesUnder(dir) {
  let out = [];
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(filesUnder(path));
    else out.push(path);
  }
  return out;
}

function walk(node, visit) {
  if (!node || typeof node.type !== "string") return;
  visit(node);
  for (const key of Object.keys(node)) {
    const value = node[key];
    if (Array.isArray(value)) for (const item of value) walk(item, visit);
    else if (value && typeof value.type === "string") walk(value, visit);
  }
}

// Problems of one script: [] when it is fine for Chrome 81.
export function scriptProblems(source, sourceType = "module") {
  let ast;
  try {
    ast = acorn.parse(source, { ecmaVersion: 2020, sourceType, locations: true });
  } catch (error) {
    return [`not ES2020 (Chrome 81): ${error.message}`];
  }
  const problems = [];
  walk(ast, (node) => {
    const line = node.loc.start.line;
    if (node.type === "MemberExpression" && !node.computed && NEW_MEMBERS.has(node.property.name)) {
      problems.push(`line ${line}: ${NEW_MEMBERS.get(node.property.name)}`);
    }
    if (node.type === "Identifier" && NEW_GLOBALS.has(node.name)) {
      problems.push(`line ${line}: ${NEW_GLOBALS.get(node.name)}`);
    }
  });
  return problems;
}

export function cssProblems(source) {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, "");
  const problems = [];
  text.split("\n").forEach((lineText, index) => {
    for (const [pattern, what] of NEW_CSS) {
      if (pattern.test(lineText)) problems.push(`line ${index + 1}: ${what}`);
    }
  });
  return problems;
}

function htmlProblems(source) {
  const problems = [];
  for (const match of source.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    if (match[2].trim() === "" || /type\s*=\s*["']?(application\/json|importmap)/i.test(match[1])) continue;
    const type = /type\s*=\s*["']?module/i.test(match[1]) ? "module" : "script";
    problems.push(...scriptProblems(match[2], type).map((p) => `<script>: ${p}`));
  }
  for (const match of source.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style>/gi)) {
    problems.push(...cssProblems(match[1]).map((p) => `<style>: ${p}`));
  }
  return problems;
}

function problemsOf(path) {
  const source = readFileSync(path, "utf8");
  if (path.endsWith(".js") || path.endsWith(".mjs")) {
    // Service workers and classic scripts are not modules; both parse as ES2020.
    const asModule = scriptProblems(source, "module");
    return asModule.length && scriptProblems(source, "script").length === 0 ? [] : asModule;
  }
  if (path.endsWith(".css")) return cssProblems(source);
  if (path.endsWith(".html")) return htmlProblems(source);
  return [];
}

test("every script, stylesheet and page of the terminal app is fit for Chrome 81", () => {
  const files = filesUnder(WEB).filter((p) => /\.(m?js|css|html)$/.test(p));
  assert.ok(files.length > 0, `no files under ${WEB}`);
  const report = [];
  for (const path of files) {
    for (const problem of problemsOf(path)) report.push(`${relative(ROOT, path)}: ${problem}`);
  }
  assert.deepEqual(report, []);
});

const REFUSED_SCRIPTS = [
  ["a ??= b", "let a; a ??= 1;"],
  ["a ||= b", "let a; a ||= 1;"],
  ["a &&= b", "let a; a &&= 1;"],
  ["numeric separators", "const n = 1_000;"],
  ["class fields", "class A { x = 1; }"],
  ["private methods", "class A { #m() {} }"],
  ["top-level await", "await Promise.resolve(1);"],
  [".replaceAll(", "'a'.replaceAll('a', 'b');"],
  [".at(", "[1].at(-1);"],
  ["structuredClone", "structuredClone({});"],
  ["crypto.randomUUID", "crypto.randomUUID();"],
  ["Object.hasOwn", "Object.hasOwn({}, 'a');"],
];
for (const [name, source] of REFUSED_SCRIPTS) {
  test(`the guard refuses ${name}`, () => {
    assert.notDeepEqual(scriptProblems(source), []);
  });
}

const ALLOWED_SCRIPTS = [
  ["optional chaining (Chrome 80)", "const a = {}; a?.b?.c;"],
  ["nullish coalescing (Chrome 80)", "const a = null; const b = a ?? 1;"],
  ["async/await in functions", "async function f() { await 1; }"],
  ["imports and exports", "import { x } from './x.js'; export const y = x;"],
  ["a computed .at kept for feature detection", "const s = 'abc'; const f = s['at'];"],
];
for (const [name, source] of ALLOWED_SCRIPTS) {
  test(`the guard allows ${name}`, () => {
    assert.deepEqual(scriptProblems(source), []);
  });
}

const REFUSED_CSS = [
  ["flex gap", ".row { display: flex; gap: 8px; }"],
  ["row-gap", ".row {\n  row-gap: 8px;\n}"],
  ["aspect-ratio", ".v { aspect-ratio: 1 / 1; }"],
  ["inset", ".o { position: fixed; inset: 0; }"],
  [":is(", ":is(h1, h2) { margin: 0; }"],
  [":where(", ":where(.a) { margin: 0; }"],
  ["dvh", ".full { height: 100dvh; }"],
];
for (const [name, source] of REFUSED_CSS) {
  test(`the guard refuses CSS ${name}`, () => {
    assert.notDeepEqual(cssProblems(source), []);
  });
}

test("the guard allows CSS Chrome 81 has", () => {
  const css = ".g { display: grid; grid-gap: 8px; }\n/* gap: 8px in a comment */\n.a { margin: 0 8px; }\n.w { top: 0; left: 0; }";
  assert.deepEqual(cssProblems(css), []);
});
