// What a pgvector application written for Node.js does, run against ann: node-postgres with
// the pgvector npm package's serialisation (text) and type parser, plus pgvector's binary
// wire format, which the npm package lacks: built here and sent as a Buffer, which
// node-postgres binds in binary format. Results are read in text format only, because
// node-postgres' `binary: true` results decode every field as UTF-8 and corrupt bytes
// (brianc/node-postgres#3495); the binary form the server sends is read as
// vector_send(...)::bytea instead. Every answer is compared with what plain SQL gives and
// with distances computed here. Connects through the libpq environment (PGHOST, PGPORT, PGUSER,
// PGDATABASE) and works in a database of its own, made and dropped here. Prints TAP.
'use strict';

const assert = require('node:assert');
const pg = require('pg');
const pgvector = require('pgvector/pg');

const DATABASE = 'ann_client_test';
const DIMENSIONS = 3;
const ROWS = 300;
const K = 5;

let testNumber = 0;
let failures = 0;

function check(description, body) {
  testNumber += 1;
  try {
    body();
    console.log(`ok ${testNumber} - ${description}`);
  } catch (error) {
    failures += 1;
    console.log(`not ok ${testNumber} - ${description}`);
    for (const line of String(error.stack || error).split('\n')) console.log(`# ${line}`);
  }
}

// A fixed sequence, so a failure can be replayed.
function makeRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

// Elements as float4 values: what the server stores, so they read back exactly.
function randomVector(random) {
  return Array.from({ length: DIMENSIONS }, () => Math.fround(random() * 2 - 1));
}

function encodeBinary(vector) {
  const buffer = Buffer.alloc(4 + 4 * vector.length);
  buffer.writeInt16BE(vector.length, 0);
  buffer.writeInt16BE(0, 2);
  vector.forEach((element, i) => buffer.writeFloatBE(element, 4 + 4 * i));
  return buffer;
}

function decodeBinary(buffer) {
  const dimensions = buffer.readInt16BE(0);
  if (buffer.readInt16BE(2) !== 0) throw new Error('unused field of a binary vector is not 0');
  if (buffer.length !== 4 + 4 * dimensions) throw new Error(`binary vector of ${buffer.length} bytes for ${dimensions} dimensions`);
  return Array.from({ length: dimensions }, (_, i) => buffer.readFloatBE(4 + 4 * i));
}

function cosineDistance(a, b) {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    normA += a[i] * a[i];
    normB += b[i] * b[i];
  }
  return 1 - dot / Math.sqrt(normA * normB);
}

// The parsed text form is a double that reads back as the stored float4.
function asFloat4(vector) {
  return vector === null ? null : vector.map(Math.fround);
}

async function withDatabase(body) {
  const admin = new pg.Client();
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE}`);
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  const client = new pg.Client({ database: DATABASE });
  try {
    await client.connect();
    await body(client);
  } finally {
    await client.end();
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE}`);
    await admin.end();
  }
}

async function run(client) {
  await client.query('CREATE EXTENSION ann');
  await pgvector.registerTypes(client);

  await client.query(`CREATE TABLE items (id int PRIMARY KEY, embedding vector(${DIMENSIONS}))`);
  const random = makeRandom(20240611);
  const stored = new Map();
  for (let id = 1; id <= ROWS; id++) {
    const embedding = id % 50 === 0 ? null : randomVector(random);
    stored.set(id, embedding);
    // Alternate the client's two serialisations: pgvector.toSql (text) and a Buffer,
    // which node-postgres sends in binary format.
    const parameter = embedding === null ? null : id % 2 ? pgvector.toSql(embedding) : encodeBinary(embedding);
    await client.query('INSERT INTO items (id, embedding) VALUES ($1, $2)', [id, parameter]);
  }

  let wrongLength = null;
  try {
    await client.query('INSERT INTO items (id, embedding) VALUES ($1, $2)', [ROWS + 1, encodeBinary([1, 2, 3, 4])]);
  } catch (error) {
    wrongLength = error;
  }
  check('a binary vector of the wrong length is refused by the vector(3) column', () => {
    assert.ok(wrongLength, 'the insert succeeded');
    assert.match(wrongLength.message, /expected 3 dimensions, not 4/);
  });

  const textRows = (await client.query('SELECT id, embedding FROM items ORDER BY id')).rows;
  check('every vector reads back through the pgvector text parser as inserted (text and binary)', () => {
    assert.strictEqual(textRows.length, ROWS);
    for (const row of textRows) assert.deepStrictEqual(asFloat4(row.embedding), stored.get(row.id), `row ${row.id}`);
  });

  const binaryRows = (await client.query('SELECT id, vector_send(embedding) AS embedding FROM items ORDER BY id')).rows;
  check("every vector's binary send form decodes to the vector inserted", () => {
    assert.strictEqual(binaryRows.length, ROWS);
    for (const row of binaryRows) {
      assert.deepStrictEqual(row.embedding === null ? null : decodeBinary(row.embedding), stored.get(row.id), `row ${row.id}`);
    }
  });

  const plainText = (await client.query('SELECT id, embedding::text AS embedding FROM items ORDER BY id')).rows;
  check("the text parser agrees with the server's text output", () => {
    for (let i = 0; i < ROWS; i++) {
      const expected = plainText[i].embedding === null ? null : plainText[i].embedding.slice(1, -1).split(',').map(Number);
      assert.deepStrictEqual(textRows[i].embedding, expected, `row ${plainText[i].id}`);
    }
  });

  await client.query('CREATE INDEX items_embedding ON items USING hnsw (embedding vector_cosine_ops) WITH (m = 8, ef_construction = 32)');
  await client.query('SET enable_seqscan = off');
  await client.query('SET hnsw.ef_search = 100');

  const nearestSql = `SELECT id, embedding, embedding <=> $1 AS distance FROM items ORDER BY embedding <=> $1 LIMIT ${K}`;
  const plan = (await client.query(`EXPLAIN (COSTS OFF) ${nearestSql}`, [pgvector.toSql([1, 0, 0])])).rows
    .map((row) => row['QUERY PLAN']).join('\n');
  check('a bound query vector is answered through the hnsw index', () => {
    assert.match(plan, /Index Scan using items_embedding/, plan);
  });

  const queries = Array.from({ length: 8 }, () => randomVector(random));
  for (const [q, query] of queries.entries()) {
    const literal = pgvector.toSql(query).replace(/'/g, "''");
    const plainIds = (await client.query(
      `SELECT id FROM items ORDER BY embedding <=> '${literal}' LIMIT ${K}`)).rows.map((row) => row.id);
    await client.query('SET enable_indexscan = off');
    const exactIds = (await client.query(
      `SELECT id FROM items ORDER BY embedding <=> '${literal}' LIMIT ${K}`)).rows.map((row) => row.id);
    await client.query('RESET enable_indexscan');
    // A named statement: from its sixth execution on, the server may use a generic plan.
    const viaText = (await client.query({ name: 'nearest_text', text: nearestSql, values: [pgvector.toSql(query)] })).rows;
    const viaBinary = (await client.query({ name: 'nearest_binary', text: nearestSql, values: [encodeBinary(query)] })).rows;
    const expectedIds = [...stored].filter(([, v]) => v !== null)
      .map(([id, v]) => ({ id, distance: cosineDistance(v, query) }))
      .sort((a, b) => a.distance - b.distance).slice(0, K).map((row) => row.id);

    check(`query ${q + 1}: plain SQL through the index returns the exact ${K} nearest rows`, () => {
      assert.deepStrictEqual(plainIds, exactIds);
      assert.deepStrictEqual(exactIds, expectedIds);
    });
    check(`query ${q + 1}: text and binary parameter binding return the rows and order of plain SQL`, () => {
      assert.deepStrictEqual(viaText.map((row) => row.id), plainIds);
      assert.deepStrictEqual(viaBinary.map((row) => row.id), plainIds);
    });
    check(`query ${q + 1}: returned vectors and distances match the stored rows`, () => {
      for (const [i, row] of viaText.entries()) {
        const binaryRow = viaBinary[i];
        assert.deepStrictEqual(asFloat4(row.embedding), stored.get(row.id));
        assert.deepStrictEqual(asFloat4(binaryRow.embedding), stored.get(row.id));
        assert.ok(Math.abs(row.distance - cosineDistance(stored.get(row.id), query)) < 1e-6, `distance of row ${row.id}`);
        assert.strictEqual(binaryRow.distance, row.distance);
      }
    });
  }
}

withDatabase(run).then(
  () => {
    console.log(`1..${testNumber}`);
    process.exitCode = failures === 0 ? 0 : 1;
  },
  (error) => {
    testNumber += 1;
    console.log(`not ok ${testNumber} - the application ran to the end`);
    for (const line of String(error.stack || error).split('\n')) console.log(`# ${line}`);
    console.log(`1..${testNumber}`);
    process.exitCode = 1;
  });
