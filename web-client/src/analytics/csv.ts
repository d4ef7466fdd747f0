import { writeCsv, type CsvValue } from '@sky/contracts';
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

/** A CSV built in the page from rows already shown, written as every CSV of the platform is. */
export function csvBytes(header: readonly string[], rows: readonly (readonly CsvValue[])[]): Uint8Array {
  return new TextEncoder().encode(writeCsv([header, ...rows]));
}

export function downloadCsv(
  filename: string,
  header: readonly string[],
  rows: readonly (readonly CsvValue[])[],
): void {
  save(csvBytes(header, rows), filename);
}
