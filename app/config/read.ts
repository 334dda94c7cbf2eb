/**
 * Reading a config file: YAML or JSON. What goes wrong is said as a user fixes it: a file that
 * cannot be read is "cannot read" (not "invalid"), and a syntax error names the line that needs the
 * change (the YAML parser reports an over-indented key on the line before it), with that line shown.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ConfigError } from '../../gateway/errors.js';

/** Read a YAML or JSON file (JSON when the name ends in .json). Throws ConfigError (UGW_ERR_CONFIG_READ). */
/** A config larger than this is refused before it is read (a config is kilobytes; this is a guard). */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;

export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    if (statSync(file).size > MAX_FILE_BYTES) throw Object.assign(new Error(`larger than ${MAX_FILE_BYTES} bytes`), { code: 'EFBIG' });
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'it is a directory' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw readError(`cannot read ${resolve(file)}: ${why}; check the path given to --config (or validate)`);
  }
  if (file.endsWith('.json')) {
    try { return JSON.parse(text); } catch (err) { throw readError(jsonSyntax(file, text, err as Error)); }
  }
  // maxAliasCount: a YAML alias bomb (anchors referencing anchors) ends in an error, not gigabytes.
  try { return parseYaml(text, { maxAliasCount: 100 }); } catch (err) {
    if (err instanceof YAMLParseError) throw readError(yamlSyntax(file, text, err));
    throw readError(`${file} is not valid YAML: ${(err as Error).message}`);
  }
}

function readError(message: string): ConfigError {
  return new ConfigError([{ path: '', message }], 'UGW_ERR_CONFIG_READ');
}

const indent = (line: string): number => /^ */.exec(line)![0].length;

/** The line as shown under an error: at most 120 characters, around the column. */
function shown(line: string, col: number): string {
  if (line.length <= 120) return line;
  const from = Math.max(0, Math.min(col - 60, line.length - 120));
  return `${from > 0 ? '…' : ''}${line.slice(from, from + 120)}${from + 120 < line.length ? '…' : ''}`;
}

/** "file line L, column C: not valid YAML: what — the fix", then the line itself. */
export function yamlSyntax(file: string, text: string, err: YAMLParseError): string {
  const lines = text.split(/\r?\n/);
  let line = err.linePos?.[0].line ?? 1;
  let col = err.linePos?.[0].col ?? 1;
  let what = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  let fix = FIXES[err.code] ?? '';
  if (err.code === 'BLOCK_AS_IMPLICIT_KEY') {
    // `port: 5555` followed by a line indented deeper: the parser blames the value's line; the
    // line to change is the next one.
    const next = lines.findIndex((l, i) => i >= line && l.trim() !== '' && !l.trimStart().startsWith('#'));
    if (next >= 0 && indent(lines[next]!) > indent(lines[line - 1]!)) {
      what = `this line is indented more than line ${line} (${JSON.stringify(lines[line - 1]!.trim())}), which already has a value`;
      fix = `indent it like line ${line} (${indent(lines[line - 1]!)} spaces), or remove the value of line ${line} to nest under it`;
      line = next + 1;
      col = indent(lines[next]!) + 1;
    }
  }
  return `${file} line ${line}, column ${col}: not valid YAML: ${what}${fix ? `: ${fix}` : ''}\n  ${String(line).padStart(4)} | ${shown(lines[line - 1] ?? '', col)}`;
}

const FIXES: Partial<Record<string, string>> = {
  BAD_INDENT: 'indent it like the entries above it at the same level',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  MISSING_CHAR: 'start a list item with "- ", or indent it like the keys above it',
  DUPLICATE_KEY: 'remove one of the two',
  MULTILINE_IMPLICIT_KEY: 'put the key on one line, or quote the value',
};

/** JSON.parse gives a character position: turn it into a line and column. */
function jsonSyntax(file: string, text: string, err: Error): string {
  const pos = Number(/position (\d+)/.exec(err.message)?.[1] ?? NaN);
  if (Number.isNaN(pos)) return `${file} is not valid JSON: ${err.message}`;
  const before = text.slice(0, pos).split('\n');
  const line = before.length;
  return `${file} line ${line}, column ${before[before.length - 1]!.length + 1}: not valid JSON: ${err.message.replace(/ in JSON at position \d+.*$/, '')}\n  ${String(line).padStart(4)} | ${shown(text.split('\n')[line - 1] ?? '', before[before.length - 1]!.length + 1)}`;
}
