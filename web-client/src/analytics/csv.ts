import { ApiError, freshAccessToken } from '../api/client';

const BOM = [0xef, 0xbb, 0xbf];

/** A CSV's bytes starting with the UTF-8 BOM (Excel reads Chinese headers as UTF-8 only then). */
export function withBom(bytes: Uint8Array): Uint8Array {
  if (bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2]) return bytes;
  const out = new Uint8Array(bytes.length + 3);
  out.set(BOM);
  out.set(bytes, 3);
  return out;
}

function save(bytes: Uint8Array, filename: string): void {
  const url = URL.createObjectURL(
    new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'text/csv;charset=utf-8' }),
  );
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Downloads one of the api's CSV tables (it needs the analyst's token, so a plain link will not do);
 * the file is saved as the api wrote it, with the BOM made sure of.
 */
export async function downloadApiCsv(path: string, filename: string): Promise<void> {
  const token = await freshAccessToken();
  let res: Response;
  try {
    res = await fetch(path, {
      headers: {
        accept: 'text/csv, application/problem+json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
    });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', err instanceof Error ? err.message : String(err));
  }
  if (!res.ok) throw new ApiError(res.status, res.status >= 502 ? 'NETWORK' : 'UNKNOWN', res.statusText);
  save(withBom(new Uint8Array(await res.arrayBuffer())), filename);
}

const cell = (v: string | number | null | undefined): string => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** A CSV (with BOM, CRLF lines) built in the page from rows already shown. */
export function csvBytes(
  header: readonly string[],
  rows: readonly (readonly (string | number | null | undefined)[])[],
): Uint8Array {
  const text = [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
  return withBom(new TextEncoder().encode(text));
}

export function downloadCsv(
  filename: string,
  header: readonly string[],
  rows: readonly (readonly (string | number | null | undefined)[])[],
): void {
  save(csvBytes(header, rows), filename);
}
