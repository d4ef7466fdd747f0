// Every service's Mongo connection is made here, so each one writes and reports health the same way.
// A separate entry (@sky/contracts/mongo) so browsers never load mongoose.
import mongoose, { type Connection } from 'mongoose';
import { mongoDefaults } from './config.js';

/**
 * One connection per app instance (no global mongoose state), so tests can run several apps. Writes are
 * majority and retryable, and a new primary is found within about 2 s, unless the URI says otherwise
 * (mongoDefaults).
 */
export async function connectMongo(uri: string): Promise<Connection> {
  const conn = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: 5000,
    autoIndex: true,
    ...mongoDefaults(uri),
  });
  await conn.asPromise();
  return conn;
}

/**
 * Up only with a primary to write to: during an election (or with the replica set's majority gone) the
 * driver stays connected to the secondaries, so the connection state alone would still say "connected".
 */
export async function mongoState(conn: Connection): Promise<{ ok: boolean; detail: string }> {
  if (conn.readyState !== mongoose.ConnectionStates.connected)
    return { ok: false, detail: mongoose.ConnectionStates[conn.readyState] ?? 'unknown' };
  try {
    // a command needs a primary: none within 2 s (an election, a lost majority) is a failed check
    await conn.db!.admin().command({ ping: 1 }, { readPreference: 'primary', timeoutMS: 2000 });
    return { ok: true, detail: 'primary' };
  } catch {
    return { ok: false, detail: 'no primary' };
  }
}
