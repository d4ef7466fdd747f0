// Imported first by each app's entry: the pages' CSP has no 'unsafe-eval', and zod (through the contract
// schemas) would otherwise probe `new Function` when its first object schema is built (a CSP violation
// report on every page load) and compile parsers with it. zod keeps its settings on globalThis (one object
// for every copy of it in the page), so jitless is set here without importing zod: the web app's first
// chunk has none, its pages load it with their schemas (no-eval.test.ts checks zod reads this setting).
const zodConfig = globalThis as { __zod_globalConfig?: { jitless?: boolean } };
(zodConfig.__zod_globalConfig ??= {}).jitless = true;

export {};
