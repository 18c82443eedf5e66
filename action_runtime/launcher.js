/*
 * Node.js launcher: one long-lived node process that loads the action once and calls it per
 * /run. Started by the proxy before /init, in the work dir, with fd 0 = /dev/null, fd 1/2 = the
 * container's stdout/stderr, fd 3 = reply pipe, fd 4 = command pipe. The JSON-lines protocol is
 * documented in launcher.py (same for all languages).
 *
 * Loading: the entry file (`index.js`, or a zip's package.json "main" / index.js) is compiled
 * as a CommonJS module, so require() of node_modules works, and main is looked up as
 *   1. module.exports[main] (dotted paths allowed: "handlers.hello"),
 *   2. a top-level binding named main (`function main(params) {}`, as OpenWhisk's eval'd
 *      single-file actions allow),
 *   3. module.exports itself when it is a function (`module.exports = fn`).
 * main may return a value or a promise; `undefined` counts as {} (OpenWhisk's Node runtime).
 *
 * Output: on Linux, process.stdout/stderr writes to pipes and files are synchronous, so what
 * the action printed is in the pipes before the reply is written.
 */
'use strict';

const fs = require('fs');
const net = require('net');
const path = require('path');
const Module = require('module');

const REPLY_FD = 3;
const COMMAND_FD = 4;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function reply(text) {
  const buffer = Buffer.from(text + '\n', 'utf8');
  let offset = 0;
  while (offset < buffer.length) {
    offset += fs.writeSync(REPLY_FD, buffer, offset);
  }
}

function replyJSON(value) {
  reply(JSON.stringify(value));
}

class LoadError extends Error {}

function exists(file) {
  try {
    return fs.statSync(file).isFile();
  } catch (e) {
    return false;
  }
}

function entryFile(dir, zipped) {
  if (!zipped) return path.join(dir, 'index.js');
  const manifest = path.join(dir, 'package.json');
  if (exists(manifest)) {
    let pkg;
    try {
      pkg = JSON.parse(fs.readFileSync(manifest, 'utf8'));
    } catch (e) {
      throw new LoadError('Invalid package.json: ' + e.message);
    }
    const main = path.resolve(dir, (pkg && pkg.main) || 'index.js');
    try {
      return require.resolve(main); // adds .js, or /index.js for a directory
    } catch (e) {
      throw new LoadError("The package.json 'main' file was not found: " + (pkg.main || 'index.js'));
    }
  }
  if (exists(path.join(dir, 'index.js'))) return path.join(dir, 'index.js');
  throw new LoadError('Zipped actions must contain either package.json or index.js at the root.');
}

// A SyntaxError's stack starts with "file:line" then the source line; give the message both.
function describe(err, dir) {
  if (!(err instanceof Error)) return String(err);
  let text = err.name + ': ' + err.message;
  if (err instanceof SyntaxError && typeof err.stack === 'string') {
    const where = /^(\/[^\n]*?):(\d+)\n/.exec(err.stack);
    if (where) text += ' (' + path.relative(dir, where[1]) + ':' + where[2] + ')';
  }
  return text;
}

function lookup(object, dotted) {
  let value = object;
  for (const part of dotted.split('.')) {
    if (value === null || value === undefined) return undefined;
    value = value[part];
  }
  return value;
}

function load(command) {
  for (const [key, value] of Object.entries(command.env || {})) process.env[key] = value;
  const dir = command.dir;
  const name = command.main || 'main';
  const file = entryFile(dir, command.zip);
  if (!exists(file)) throw new LoadError('Cannot find the action\'s code (' + path.basename(file) + ').');

  let source = fs.readFileSync(file, 'utf8');
  // Remember a top-level `function main` (or const/let/var) after the module body has run.
  if (IDENTIFIER.test(name)) {
    source += '\n;try { module.__pywhiskTopLevel = typeof ' + name + " === 'function' ? " +
      name + ' : undefined; } catch (e) {}\n';
  }
  const mod = new Module(file, null);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(path.dirname(file));
  Module._cache[file] = mod; // circular require()s of the entry file get this module
  try {
    mod._compile(source, file);
    mod.loaded = true;
  } catch (e) {
    delete Module._cache[file];
    throw e;
  }

  let fn = lookup(mod.exports, name);
  if (typeof fn !== 'function') fn = mod.__pywhiskTopLevel;
  if (typeof fn !== 'function' && typeof mod.exports === 'function') fn = mod.exports;
  if (typeof fn !== 'function') {
    throw new LoadError(path.relative(dir, file) + " has no function '" + name + "'.");
  }
  return fn;
}

function errorValue(err) {
  if (err instanceof Error) return err.message;
  if (err === undefined || err === null) return {};
  return err; // reject({code: 42}) keeps its shape, as in OpenWhisk
}

function serialize(result) {
  if (result === undefined) result = {};
  try {
    const text = JSON.stringify(result);
    // Functions and symbols stringify to undefined: not a dictionary, the proxy says so.
    return text === undefined ? 'null' : text;
  } catch (e) {
    return JSON.stringify({ error: 'The action returned a result that is not valid JSON: ' + e.message });
  }
}

let action = null;
let failedInit = false;
let exported = new Set();
let baseEnv = {};
let current = null; // the run in progress: {settle(text)}

function exportEnv(message) {
  const now = new Set();
  for (const key of Object.keys(message)) {
    if (key === 'value') continue;
    const name = '__OW_' + key.toUpperCase();
    const value = message[key];
    process.env[name] = typeof value === 'string' ? value : JSON.stringify(value);
    now.add(name);
  }
  for (const name of exported) {
    if (now.has(name)) continue;
    if (name in baseEnv) process.env[name] = baseEnv[name];
    else delete process.env[name];
  }
  exported = now;
}

function run(line, done) {
  let message;
  try {
    message = JSON.parse(line);
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      throw new Error('the /run body must be a JSON object');
    }
  } catch (e) {
    reply('!' + JSON.stringify({ error: 'Invalid /run body: ' + e.message }));
    return done();
  }
  exportEnv(message);

  let settled = false;
  current = {
    settle(text) {
      // A late resolution after an uncaught exception already answered must not write a
      // second line: the proxy would read it as the next run's reply.
      if (settled) return;
      settled = true;
      current = null;
      reply(text);
      done();
    },
  };
  const run = current;
  const args = message.value === undefined ? {} : message.value;
  let pending;
  try {
    pending = Promise.resolve(action(args));
  } catch (e) {
    pending = Promise.reject(e);
  }
  pending.then(
    (result) => run.settle(serialize(result)),
    (err) => {
      if (err instanceof Error) console.error(err);
      run.settle(serialize({ error: errorValue(err) }));
    }
  );
}

function handle(line, done) {
  if (action !== null) return run(line, done);
  if (failedInit) {
    replyJSON({ error: 'The action failed to initialize.' });
    return done();
  }
  let command;
  try {
    command = JSON.parse(line);
    action = load(command);
    baseEnv = Object.assign({}, process.env);
    reply('{"ok":true}');
  } catch (e) {
    failedInit = true;
    if (!(e instanceof LoadError)) console.error(e);
    replyJSON({ error: e instanceof LoadError ? e.message : describe(e, command ? command.dir : '.') });
  }
  done();
}

// An exception thrown from a callback the action scheduled fails the run in progress (and is
// logged otherwise) instead of killing the container.
process.on('uncaughtException', (err) => {
  console.error(err);
  if (current) current.settle(serialize({ error: errorValue(err) }));
});
process.on('unhandledRejection', (reason) => {
  console.error('Unhandled promise rejection:', reason);
});

// Lines are handled one at a time, in order; the proxy sends one and waits anyway.
const queue = [];
let busy = false;
function pump() {
  if (busy || queue.length === 0) return;
  busy = true;
  handle(queue.shift(), () => {
    busy = false;
    pump();
  });
}

const pieces = [];
const commands = new net.Socket({ fd: COMMAND_FD, readable: true, writable: false });
commands.on('data', (chunk) => {
  let start = 0;
  let end;
  while ((end = chunk.indexOf(10, start)) !== -1) {
    pieces.push(chunk.subarray(start, end));
    queue.push(Buffer.concat(pieces).toString('utf8'));
    pieces.length = 0;
    start = end + 1;
  }
  if (start < chunk.length) pieces.push(chunk.subarray(start));
  pump();
});
commands.on('end', () => process.exit(0));
commands.on('error', () => process.exit(0));
