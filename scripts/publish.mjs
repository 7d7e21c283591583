// Builds the releases that scripts/static-server.mjs publishes under /live/ (POST /__publish): a copy of the base
// directory's manifest and files as another version, with one fault on request. Only the model file changes: its
// bytes get a doc_string naming the release (field 6 of ONNX's ModelProto, which every decoder reads or skips), so
// each release is a real download with its own SHA-256, while the vocabulary, response bank and validation set are
// the base's (a client keeps them by their hash and fetches nothing). The faults:
//   sha          the manifest names the release's file (size, SHA-256), the server sends other bytes of that size
//   truncate     the manifest names the whole file, the server sends its first half
//   shadow       a model that builds and verifies, whose sentiment head leans hard toward its second label, so the
//                shadow check fails (the bias of the Add before the `sentiment` Softmax, raised by 4, in place)
//   unbuildable  a model that verifies but does not build: one node's operator renamed to one no loader knows
// Everything is edited in place in the protobuf (same lengths), so nothing but the edited bytes moves.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const FAULTS = ['none', 'sha', 'truncate', 'shadow', 'unbuildable'];
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
const CHANNEL = /^[a-z0-9-]{1,32}$/;
/// The unknown operator of the `unbuildable` fault (its length picks the node renamed, so nothing moves).
const UNKNOWN_OP = 'NotAnOp';

export const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');

/// The request body of POST /__publish, checked: throws an Error whose message says what is wrong.
export function readPublish(body) {
  const { version, channel, fault = 'none', rollout } = body ?? {};
  const extra = Object.keys(body ?? {}).filter((k) => !['version', 'channel', 'fault', 'rollout'].includes(k));
  if (extra.length) throw new Error(`unknown member ${extra[0]}: use version, channel, fault, rollout`);
  if (typeof version !== 'string' || !SEMVER.test(version)) throw new Error('version: a semver string, e.g. "2.2.0"');
  if (channel !== undefined && (typeof channel !== 'string' || !CHANNEL.test(channel))) {
    throw new Error("channel: 1-32 of a-z, 0-9 and '-'");
  }
  if (!FAULTS.includes(fault)) throw new Error(`fault: one of ${FAULTS.join(', ')}`);
  if (rollout !== undefined && !(typeof rollout === 'number' && rollout >= 0 && rollout <= 100)) {
    throw new Error('rollout: a percentage, 0 to 100');
  }
  return { version, channel, fault, rollout };
}

// --- A few protobuf primitives: enough to walk ONNX's ModelProto -> GraphProto -> NodeProto / TensorProto. ---

function varint(b, p) {
  let value = 0;
  let scale = 1;
  let byte;
  do {
    if (p >= b.length) throw new Error('protobuf: varint past the end');
    byte = b[p++];
    value += (byte & 0x7f) * scale;
    scale *= 128;
  } while (byte & 0x80);
  return [value, p];
}

function encodeVarint(n) {
  const out = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/// The fields of the message in b[start, end): { field, wire, start, end } (start..end: the value's bytes).
function* fields(b, start, end) {
  let p = start;
  while (p < end) {
    let tag;
    [tag, p] = varint(b, p);
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    let s = p;
    let e;
    if (wire === 0) [, e] = varint(b, p);
    else if (wire === 1) e = p + 8;
    else if (wire === 5) e = p + 4;
    else if (wire === 2) {
      let n;
      [n, s] = varint(b, p);
      e = s + n;
    } else throw new Error(`protobuf: wire type ${wire} at ${p}`);
    if (e > end) throw new Error('protobuf: a field runs past its message');
    yield { field, wire, start: s, end: e, value: wire === 0 ? varint(b, p)[0] : undefined };
    p = e;
  }
}

const text = (b, f) => b.toString('utf8', f.start, f.end);
const only = (b, f, n) => [...fields(b, f.start, f.end)].filter((x) => x.field === n);

/// The graph's nodes ({ op, opField, inputs, outputs }) and initializers ({ name, type, dims, raw }) of a model.
function graphOf(b) {
  const graph = [...fields(b, 0, b.length)].find((f) => f.field === 7);
  if (!graph) throw new Error('the model file has no graph');
  const nodes = [];
  const inits = new Map();
  for (const g of fields(b, graph.start, graph.end)) {
    if (g.field === 1) {
      const opField = only(b, g, 4)[0];
      nodes.push({
        op: opField && text(b, opField),
        opField,
        inputs: only(b, g, 1).map((f) => text(b, f)),
        outputs: only(b, g, 2).map((f) => text(b, f)),
      });
    } else if (g.field === 5) {
      const name = only(b, g, 8).map((f) => text(b, f))[0];
      const type = only(b, g, 2)[0]?.value;
      const dims = only(b, g, 1).map((f) => f.value);
      inits.set(name, { name, type, dims, raw: only(b, g, 9)[0] });
    }
  }
  return { nodes, inits };
}

/// The model with a doc_string naming the release appended (the last value of a field wins, so any earlier one is
/// replaced for readers and the graph is untouched).
function withDocString(onnx, note) {
  const s = Buffer.from(note, 'utf8');
  return Buffer.concat([onnx, Buffer.from([(6 << 3) | 2]), encodeVarint(s.length), s]);
}

/// The `shadow` fault: raises one label's bias of the sentiment head, found as the float initializer added just
/// before the Softmax (or any one-input op) that produces the output `sentiment`.
function leaningSentiment(onnx) {
  const b = Buffer.from(onnx);
  const { nodes, inits } = graphOf(b);
  let want = 'sentiment';
  for (let hops = 0; hops < 4; hops++) {
    const node = nodes.find((n) => n.outputs.includes(want));
    if (!node) break;
    const bias = node.op === 'Add' && node.inputs.map((i) => inits.get(i)).find((t) => t?.type === 1 && t.raw);
    if (bias) {
      const n = (bias.raw.end - bias.raw.start) / 4;
      if (n < 2) break;
      const at = bias.raw.start + 4; // the second label's bias
      b.writeFloatLE(b.readFloatLE(at) + 4, at);
      return { bytes: b, detail: `initializer ${bias.name}[1] raised by 4` };
    }
    if (node.inputs.length !== 1 && node.op !== 'Add') break;
    want = node.inputs[0];
  }
  throw new Error('no float bias found before the sentiment output: the shadow fault needs one');
}

/// The `unbuildable` fault: the first node whose operator name is as long as UNKNOWN_OP gets that name instead.
function unknownOperator(onnx) {
  const b = Buffer.from(onnx);
  const node = graphOf(b).nodes.find((n) => n.opField && n.opField.end - n.opField.start === UNKNOWN_OP.length);
  if (!node) throw new Error(`no operator of ${UNKNOWN_OP.length} characters to rename`);
  b.write(UNKNOWN_OP, node.opField.start, 'utf8');
  return { bytes: b, detail: `operator ${node.op} renamed ${UNKNOWN_OP}`, unknownOp: UNKNOWN_OP };
}

/// A release of the base directory `dir`: { version, manifest (Buffer), files (Map name -> Buffer, served instead
/// of the base's), detail, unknownOp? }.
export function makeRelease(dir, { version, channel, fault, rollout }) {
  const base = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const onnx = fs.readFileSync(path.join(dir, base.file));
  let model = { bytes: onnx, detail: null };
  if (fault === 'shadow') model = leaningSentiment(onnx);
  if (fault === 'unbuildable') model = unknownOperator(onnx);
  const genuine = withDocString(model.bytes, `unwritten-ai test release ${version}`);
  const manifest = { ...base, version, bytes: genuine.length, sha256: sha256(genuine) };
  if (channel !== undefined) manifest.channel = channel;
  if (rollout !== undefined) manifest.rollout = { percentage: rollout };
  let served = genuine;
  if (fault === 'sha') {
    served = Buffer.from(genuine);
    const at = Math.floor(served.length / 2);
    served[at] ^= 0xff;
  }
  if (fault === 'truncate') served = genuine.subarray(0, Math.floor(genuine.length / 2));
  return {
    version,
    fault,
    manifest: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`),
    files: new Map([[base.file, served]]),
    detail: model.detail,
    unknownOp: model.unknownOp,
  };
}
