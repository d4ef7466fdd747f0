import mongoose, { type Connection } from 'mongoose';

/** One connection per app instance (no global mongoose state), so tests can run several apps. */
export async function connectMongo(uri: string): Promise<Connection> {
  const conn = mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5000, autoIndex: true });
  await conn.asPromise();
  return conn;
}

export function mongoState(conn: Connection): { ok: boolean; detail: string } {
  const ok = conn.readyState === mongoose.ConnectionStates.connected;
  return { ok, detail: mongoose.ConnectionStates[conn.readyState] ?? 'unknown' };
}
