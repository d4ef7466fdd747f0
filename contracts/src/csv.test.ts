import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvCell, defuseCsvText, restoreCsvText, writeCsv } from './csv.js';

test('text a spreadsheet would run as a formula is written as text (OWASP CSV injection)', () => {
  for (const formula of ['=1+1', '+1', '-1+2', '@SUM(A1)', '\t=1', '\r=1', '=HYPERLINK("http://x","y")']) {
    const cell = csvCell(formula);
    assert.ok(!/^"?[=+\-@\t\r]/.test(cell), `${JSON.stringify(formula)} → ${cell}`);
    assert.ok(cell.startsWith("'") || cell.startsWith(`"'`), cell);
  }
  assert.equal(csvCell('=A1,"x"'), `"'=A1,""x"""`);
  // numbers are numbers: a negative count is no formula
  assert.equal(csvCell(-3), '-3');
  assert.equal(csvCell('分数的初步认识'), '分数的初步认识');
  assert.equal(csvCell(null), '');
});

test('restoring a defused cell gives back exactly the text, apostrophes included', () => {
  for (const text of ['=1', "'=1", "''+2", "'Twas", 'plain', '', '-', "'"]) {
    assert.equal(restoreCsvText(defuseCsvText(text)), text, JSON.stringify(text));
  }
  assert.equal(restoreCsvText("'Twas"), "'Twas");
});

test('a file starts with the BOM and ends its lines with CRLF', () => {
  assert.equal(
    writeCsv([
      ['a', 'b'],
      [1, '@x'],
    ]),
    "\uFEFFa,b\r\n1,'@x\r\n",
  );
});
