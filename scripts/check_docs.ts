// Copyright 2026 the @alkdev/pubsub authors. MIT license.

// Checks that the options tables of the architecture docs match the code:
// every `Create…Options` interface of an entry file in deno.json `exports` has
// a table in its doc (docs/architecture/event-targets/<adapter>.md for
// `./event-target-<adapter>`, docs/architecture.md for the other entries),
// every option is a row with its `@default`, and every row is an option.
//
//   deno run --allow-read --allow-run scripts/check_docs.ts
//
// An options table is a Markdown table whose header has "option" and
// "default" columns, under a heading that names its interface in backticks:
// "### Options (`CreateWebSocketClientEventTargetOptions`)". Its default cell
// holds the `@default` value in backticks, "required" for an option that is
// not optional, or starts with "—" when there is no default. Tables of an
// adapter not yet in `exports` (a design) are skipped.

import { ROOT } from "./_tools.ts";

/** One option as the code declares it. */
interface Member {
  name: string;
  optional: boolean;
  default: string | undefined;
}

/** An options table as a doc writes it. */
interface Table {
  doc: string;
  line: number;
  iface: string;
  rows: Map<string, string>;
}

// What `deno doc --json` gives, as far as this script reads it.
interface DocTag {
  kind: string;
  value?: string;
}
interface DocMember {
  name: string;
  optional?: boolean;
  jsDoc?: { tags?: DocTag[] };
}
interface DocTypeRef {
  repr: string;
  value?: { typeName?: string; resolution?: { kind: string; specifier?: string; name?: string } };
}
interface DocDeclaration {
  kind: string;
  location: { filename: string };
  def?: {
    properties?: DocMember[];
    methods?: DocMember[];
    extends?: DocTypeRef[];
    tsType?: { kind: string; value?: { properties?: DocMember[]; methods?: DocMember[] } };
  };
}
interface DocSymbol {
  name: string;
  declarations: DocDeclaration[];
}

const ARCHITECTURE = "docs/architecture.md";
const ADAPTERS = "docs/architecture/event-targets/";
const problems: string[] = [];

/** The doc that holds the options tables of an entry path, or undefined for `.`. */
function docOf(path: string): string | undefined {
  if (path === ".") return undefined; // mod.ts re-exports the other entries
  const adapter = path.match(/^\.\/event-target-(.+)$/)?.[1];
  return adapter ? `${ADAPTERS}${adapter}.md` : ARCHITECTURE;
}

/** Runs `deno doc --json` on files and returns their symbols by file URL. */
async function denoDoc(files: string[]): Promise<Map<string, DocSymbol[]>> {
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", ...files],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!success) {
    throw new Error(`deno doc --json failed:\n${new TextDecoder().decode(stderr)}`);
  }
  const json = JSON.parse(new TextDecoder().decode(stdout));
  const nodes = json.nodes as Record<string, { symbols?: DocSymbol[] }>;
  return new Map(Object.entries(nodes).map(([url, node]) => [url, node.symbols ?? []]));
}

/** The members of an interface (or object type alias), with those of what it extends. */
async function membersOf(declaration: DocDeclaration, name: string): Promise<Member[]> {
  const def = declaration.def ?? {};
  let own: DocMember[];
  if (declaration.kind === "interface") {
    own = [...(def.properties ?? []), ...(def.methods ?? [])];
  } else if (declaration.kind === "typeAlias" && def.tsType?.kind === "typeLiteral") {
    own = [...(def.tsType.value?.properties ?? []), ...(def.tsType.value?.methods ?? [])];
  } else {
    throw new Error(`cannot read the options of ${name}: it is a ${declaration.kind}`);
  }
  const members: Member[] = [];
  for (const base of def.extends ?? []) {
    members.push(...await membersOf(await resolve(base, declaration.location.filename), base.repr));
  }
  for (const member of own) {
    members.push({
      name: member.name,
      optional: member.optional === true,
      default: member.jsDoc?.tags?.find((tag) => tag.kind === "default")?.value,
    });
  }
  return members;
}

/** Finds the declaration an `extends` clause names, in its own file or the file it imports from. */
async function resolve(ref: DocTypeRef, from: string): Promise<DocDeclaration> {
  const resolution = ref.value?.resolution;
  const name = resolution?.name ?? ref.value?.typeName ?? ref.repr;
  const file = resolution?.kind === "import" && resolution.specifier
    ? new URL(resolution.specifier, from).href
    : from;
  const symbols = (await denoDoc([new URL(file).pathname])).get(file) ?? [];
  const found = symbols.find((symbol) => symbol.name === name)?.declarations[0];
  if (!found) throw new Error(`cannot find ${name}, which ${from} extends, in ${file}`);
  return found;
}

/** Reads every options table of a Markdown file. */
function readTables(doc: string, text: string): Table[] {
  const lines = text.split("\n");
  const tables: Table[] = [];
  let heading = "";
  for (let i = 0; i < lines.length; i++) {
    if (/^#{1,6}\s/.test(lines[i])) heading = lines[i];
    if (!lines[i].startsWith("|") || !/^\|[\s:|-]+\|\s*$/.test(lines[i + 1] ?? "")) continue;
    const header = cells(lines[i]).map((cell) => cell.toLowerCase());
    const nameColumn = header.indexOf("option");
    const defaultColumn = header.indexOf("default");
    if (nameColumn === -1 || defaultColumn === -1) continue;
    const iface = heading.match(/`(\w+)`/)?.[1];
    if (!iface) {
      problems.push(`${doc}:${i + 1}: the options table under "${heading}" names no interface`);
      continue;
    }
    const rows = new Map<string, string>();
    let j = i + 2;
    for (; j < lines.length && lines[j].startsWith("|"); j++) {
      const row = cells(lines[j]);
      const name = row[nameColumn]?.match(/^`(\w+)`$/)?.[1];
      if (!name) {
        problems.push(`${doc}:${j + 1}: the option cell "${row[nameColumn]}" is not one \`name\``);
        continue;
      }
      rows.set(name, row[defaultColumn] ?? "");
    }
    tables.push({ doc, line: i + 1, iface, rows });
    i = j - 1;
  }
  return tables;
}

/** The cells of a table row; a `|` inside backticks does not split. */
function cells(row: string): string[] {
  const out: string[] = [];
  let cell = "";
  let code = false;
  for (const char of row.trim().replace(/^\||\|$/g, "")) {
    if (char === "`") code = !code;
    if (char === "|" && !code) {
      out.push(cell.trim());
      cell = "";
    } else cell += char;
  }
  out.push(cell.trim());
  return out;
}

/** What is wrong with one default cell, or undefined. */
function defaultProblem(member: Member, cell: string): string | undefined {
  if (member.default !== undefined) {
    return cell.includes(`\`${member.default}\``)
      ? undefined
      : `the code's @default is ${member.default}, the table says "${cell}"`;
  }
  if (!member.optional) {
    return /\brequired\b/i.test(cell) ? undefined : `it is required, the table says "${cell}"`;
  }
  return /^(—|-)/.test(cell)
    ? undefined
    : `it has no @default in the code, so the table's default should start with "—", not "${cell}"`;
}

const exportsMap = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).exports as Record<
  string,
  string
>;
const entries = Object.entries(exportsMap).filter(([path]) => docOf(path) !== undefined);
const docs = new Map<string, Table[]>();
for (const doc of new Set([ARCHITECTURE, ...entries.map(([path]) => docOf(path)!)])) {
  const text = await Deno.readTextFile(`${ROOT}${doc}`).catch(() => undefined);
  if (text === undefined) problems.push(`${doc} is missing: every entry in deno.json has its doc`);
  else docs.set(doc, readTables(doc, text));
}
for await (const file of Deno.readDir(`${ROOT}${ADAPTERS}`)) {
  const doc = `${ADAPTERS}${file.name}`;
  if (file.name.endsWith(".md") && !docs.has(doc)) {
    docs.set(doc, readTables(doc, await Deno.readTextFile(`${ROOT}${doc}`)));
  }
}

// Every interface of the entry files, by name, with the doc its entry maps to.
const symbols = await denoDoc(entries.map(([, file]) => file));
const interfaces = new Map<string, { file: string; doc: string; declaration: DocDeclaration }>();
for (const [path, file] of entries) {
  const url = new URL(file, `file://${ROOT}`).href;
  for (const symbol of symbols.get(url) ?? []) {
    const declaration = symbol.declarations[0];
    if (declaration.location.filename !== url) continue; // re-exported from elsewhere
    if (declaration.kind === "interface" || declaration.kind === "typeAlias") {
      interfaces.set(symbol.name, { file, doc: docOf(path)!, declaration });
    }
  }
}

const exportedDocs = new Set(entries.map(([path]) => docOf(path)));
const skipped: string[] = [];
let checked = 0;
let options = 0;
const tables = [...docs.values()].flat();
const named = new Set(tables.map((table) => table.iface));
for (const [name, { file, doc }] of interfaces) {
  if (/^Create\w*Options$/.test(name) && !named.has(name)) {
    problems.push(
      `${doc}: no options table for ${name} (${file}); add one under a heading naming \`${name}\``,
    );
  }
}
for (const table of tables) {
  const where = `${table.doc}:${table.line}`;
  const found = interfaces.get(table.iface);
  if (!found) {
    if (exportedDocs.has(table.doc)) {
      problems.push(`${where}: the table is for ${table.iface}, which no entry file declares`);
    } else skipped.push(`${table.iface} (${table.doc}: not in deno.json exports yet)`);
    continue;
  }
  if (found.doc !== table.doc) {
    problems.push(`${where}: ${table.iface} (${found.file}) belongs in ${found.doc}`);
  }
  let members: Member[];
  try {
    members = await membersOf(found.declaration, table.iface);
  } catch (error) {
    problems.push(`${where}: ${(error as Error).message}`);
    continue;
  }
  for (const member of members) {
    const cell = table.rows.get(member.name);
    if (cell === undefined) {
      problems.push(`${where}: option \`${member.name}\` of ${table.iface} is not in the table`);
      continue;
    }
    const problem = defaultProblem(member, cell);
    if (problem) problems.push(`${where}: default of \`${member.name}\`: ${problem}`);
    options++;
  }
  for (const name of table.rows.keys()) {
    if (!members.some((member) => member.name === name)) {
      problems.push(`${where}: \`${name}\` is in the table but ${table.iface} has no such option`);
    }
  }
  checked++;
}

for (const note of skipped) console.log(`skipped ${note}`);
if (problems.length > 0) {
  console.error(`docs do not match the code (${problems.length}):`);
  for (const problem of problems) console.error(`  ${problem}`);
  Deno.exit(1);
}
console.log(`docs match the code: ${checked} options tables, ${options} options`);
