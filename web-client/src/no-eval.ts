// Imported first by each app's entry: the pages' CSP has no 'unsafe-eval', and zod (through the contract
// schemas) would otherwise probe `new Function` when its first object schema is built (a CSP violation
// report on every page load) and compile parsers with it.
import { z } from 'zod';

z.config({ jitless: true });
