// Renders docs/api.md from the exports of src/sdk/index.ts and their JSDoc, read with the TypeScript compiler:
// functions with their signatures and examples, the `f` filter builders, classes, values and types. Used by
// scripts/gen-docs.ts (`npm run docs`) and by test/api-docs.test.ts, which fails when docs/api.md is stale.
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../', import.meta.url));
const entry = `${root}src/sdk/index.ts`;

interface Doc {
  readonly text: string;
  readonly examples: readonly string[];
}

function docOf(symbol: ts.Symbol, checker: ts.TypeChecker): Doc {
  const text = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
  const examples = symbol
    .getJsDocTags(checker)
    .filter((t) => t.name === 'example')
    .map((t) => dedent(ts.displayPartsToString(t.text)));
  return { text, examples };
}

function nodeDoc(node: ts.Node): Doc {
  const parts = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const last = parts[parts.length - 1];
  if (!last) return { text: '', examples: [] };
  const text = typeof last.comment === 'string' ? last.comment : ts.getTextOfJSDocComment(last.comment) ?? '';
  const examples = (last.tags ?? [])
    .filter((t) => t.tagName.text === 'example')
    .map((t) => dedent(typeof t.comment === 'string' ? t.comment : ts.getTextOfJSDocComment(t.comment) ?? ''));
  return { text: text.trim(), examples };
}

function dedent(text: string): string {
  const lines = text.replace(/^\n+|\s+$/g, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(Number.isFinite(indent) ? indent : 0)).join('\n');
}

/** JSDoc prose as markdown: `@link` braces dropped, lines joined into paragraphs. */
function prose(text: string): string {
  return text
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s*\n\s*/g, ' ').trim())
    .filter(Boolean)
    .join('\n\n');
}

function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

function examplesBlock(examples: readonly string[]): string {
  return examples.map((e) => `\n\`\`\`js\n${e}\n\`\`\`\n`).join('');
}

/** Declaration text without its JSDoc, and without a function body. */
function declarationText(node: ts.Node, source: ts.SourceFile): string {
  return source.text.slice(node.getStart(source), node.getEnd()).trim();
}

function membersTable(decl: ts.InterfaceDeclaration | ts.TypeLiteralNode, source: ts.SourceFile, checker: ts.TypeChecker): string {
  const rows: string[] = [];
  for (const member of decl.members) {
    if (!ts.isPropertySignature(member) || !member.name) continue;
    const name = member.name.getText(source) + (member.questionToken ? '?' : '');
    const type = member.type ? member.type.getText(source) : 'unknown';
    const symbol = checker.getSymbolAtLocation(member.name);
    const doc = symbol ? prose(docOf(symbol, checker).text) : '';
    rows.push(`| \`${name}\` | \`${cell(type)}\` | ${cell(doc)} |`);
  }
  if (rows.length === 0) return '';
  return `\n| property | type | description |\n| --- | --- | --- |\n${rows.join('\n')}\n`;
}

function anchor(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-');
}

export function renderApiMarkdown(): string {
  const parsed = ts.getParsedCommandLineOfConfigFile(`${root}tsconfig.json`, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  // The sdk uses no node types; leaving them out keeps this fast.
  const program = ts.createProgram([entry], { ...parsed?.options, types: [], noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  if (!source) throw new Error(`cannot read ${entry}`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (!moduleSymbol) throw new Error(`${entry} has no exports`);
  const moduleDoc = source.statements[0] ? nodeDoc(source.statements[0]) : { text: '', examples: [] };

  const functions: string[] = [];
  const values: string[] = [];
  const classes: string[] = [];
  const types: string[] = [];
  const contents: Record<'Functions' | 'Filter builders' | 'Values' | 'Classes' | 'Types', string[]> = {
    Functions: [], 'Filter builders': [], Values: [], Classes: [], Types: [],
  };
  let filterSection = '';

  const exportsInOrder = checker.getExportsOfModule(moduleSymbol);
  for (const exported of exportsInOrder) {
    const name = exported.getName();
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const decl = symbol.declarations?.[0];
    if (!decl) continue;
    const declSource = decl.getSourceFile();
    const doc = docOf(symbol, checker);

    if (ts.isFunctionDeclaration(decl)) {
      const signatures = checker
        .getTypeOfSymbolAtLocation(symbol, decl)
        .getCallSignatures()
        .map((s) => `function ${name}${checker.signatureToString(s, undefined, ts.TypeFormatFlags.NoTruncation)}`);
      functions.push(`### ${name}\n\n\`\`\`ts\n${signatures.join('\n')}\n\`\`\`\n\n${prose(doc.text)}\n${examplesBlock(doc.examples)}`);
      contents.Functions.push(name);
    } else if (ts.isVariableDeclaration(decl) && name === 'f') {
      filterSection = renderFilterBuilders(decl, declSource, doc);
      contents['Filter builders'].push('f');
    } else if (ts.isVariableDeclaration(decl)) {
      const type = checker.typeToString(checker.getTypeOfSymbolAtLocation(symbol, decl), undefined, ts.TypeFormatFlags.NoTruncation);
      values.push(`### ${name}\n\n\`\`\`ts\nconst ${name}: ${type}\n\`\`\`\n\n${prose(doc.text)}\n${examplesBlock(doc.examples)}`);
      contents.Values.push(name);
    } else if (ts.isClassDeclaration(decl)) {
      classes.push(renderClass(name, decl, declSource, checker, doc));
      contents.Classes.push(name);
    } else if (ts.isInterfaceDeclaration(decl)) {
      const heritage = decl.heritageClauses?.map((h) => h.getText(declSource)).join(' ') ?? '';
      types.push(`### ${name}\n\n\`interface ${name}${heritage ? ' ' + heritage : ''}\`\n\n${prose(doc.text)}\n${membersTable(decl, declSource, checker)}`);
      contents.Types.push(name);
    } else if (ts.isTypeAliasDeclaration(decl)) {
      types.push(renderTypeAlias(name, decl, declSource, checker, doc));
      contents.Types.push(name);
    }
  }

  const toc = Object.entries(contents)
    .filter(([, names]) => names.length > 0)
    .map(([group, names]) => `- ${group}: ${names.map((n) => `[\`${n}\`](#${anchor(n === 'f' ? 'filter builders: f' : n)})`).join(', ')}`)
    .join('\n');

  return [
    '# API reference',
    '',
    '<!-- Generated from the JSDoc of src/sdk/index.ts by scripts/gen-api-docs.ts: run `npm run docs`, do not edit. -->',
    '',
    prose(moduleDoc.text),
    examplesBlock(moduleDoc.examples),
    'Install and import: see [Quick start](quick-start.md). The URL forms these functions write are described in',
    '[URLs](urls.md).',
    '',
    toc,
    '',
    '## Functions',
    '',
    functions.join('\n'),
    filterSection,
    ...(values.length ? ['## Values', '', values.join('\n')] : []),
    ...(classes.length ? ['## Classes', '', classes.join('\n')] : []),
    '## Types',
    '',
    types.join('\n'),
  ]
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/\s*$/, '\n');
}

function renderFilterBuilders(decl: ts.VariableDeclaration, source: ts.SourceFile, doc: Doc): string {
  let init = decl.initializer;
  while (init && (ts.isAsExpression(init) || ts.isSatisfiesExpression(init) || ts.isParenthesizedExpression(init))) init = init.expression;
  if (!init || !ts.isObjectLiteralExpression(init)) return '';
  const rows: string[] = [];
  for (const prop of init.properties) {
    if (!ts.isPropertyAssignment(prop) || !ts.isArrowFunction(prop.initializer)) continue;
    const key = prop.name.getText(source);
    const params = prop.initializer.parameters.map((p) => p.getText(source).replace(/\s+/g, ' ')).join(', ');
    // The imagor name is the first argument of the filter(...) call the builder returns.
    const body = prop.initializer.body.getText(source);
    const imagorName = /filter\('([a-z_]+)'/.exec(body)?.[1] ?? (key === 'custom' ? '(any)' : key);
    rows.push(`| \`f.${key}(${cell(params)})\` | \`${imagorName}\` | ${cell(prose(nodeDoc(prop).text))} |`);
  }
  return [
    '## Filter builders: f',
    '',
    prose(doc.text),
    examplesBlock(doc.examples),
    'Each builder returns an `ImagorFilter` (`{ name, args }`) for `ImagorOptions.filters`, with its arguments checked',
    'and escaped. The filters themselves are described in [URLs](urls.md#filters).',
    '',
    '| builder | imagor filter | description |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

function renderClass(name: string, decl: ts.ClassDeclaration, source: ts.SourceFile, checker: ts.TypeChecker, doc: Doc): string {
  const heritage = decl.heritageClauses?.map((h) => h.getText(source)).join(' ') ?? '';
  const lines: string[] = [];
  for (const member of decl.members) {
    if (ts.isConstructorDeclaration(member)) {
      lines.push(`constructor(${member.parameters.map((p) => p.getText(source).replace(/\s+/g, ' ')).join(', ')})`);
    } else if (ts.isPropertyDeclaration(member) && member.type) {
      const text = `${member.modifiers?.some((m) => m.kind === ts.SyntaxKind.ReadonlyKeyword) ? 'readonly ' : ''}${member.name.getText(source)}: ${member.type.getText(source)}`;
      const symbol = checker.getSymbolAtLocation(member.name);
      const memberDoc = symbol ? prose(docOf(symbol, checker).text) : '';
      lines.push(memberDoc ? `/** ${memberDoc} */\n  ${text}` : text);
    }
  }
  const body = lines.map((l) => `  ${l};`).join('\n');
  return `### ${name}\n\n\`\`\`ts\nclass ${name}${heritage ? ' ' + heritage : ''} {\n${body}\n}\n\`\`\`\n\n${prose(doc.text)}\n${examplesBlock(doc.examples)}`;
}

function renderTypeAlias(name: string, decl: ts.TypeAliasDeclaration, source: ts.SourceFile, checker: ts.TypeChecker, doc: Doc): string {
  let text = declarationText(decl, source).replace(/^export\s+/, '');
  let members = '';
  if (/\b(keyof|typeof)\b/.test(decl.type.getText(source))) {
    // `keyof typeof table` says nothing to a reader: spell the union out.
    const expanded = checker.typeToString(checker.getTypeAtLocation(decl), undefined, ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.InTypeAlias);
    text = `type ${name} = ${expanded.split(' | ').join('\n  | ')};`;
  } else if (ts.isTypeReferenceNode(decl.type)) {
    // An alias of an interface the sdk does not export: show that interface's members.
    const target = checker.getSymbolAtLocation(decl.type.typeName);
    const resolved = target && target.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(target) : target;
    const iface = resolved?.declarations?.find(ts.isInterfaceDeclaration);
    if (iface) members = membersTable(iface, iface.getSourceFile(), checker);
  }
  if (name !== decl.name.text) text = text.replace(new RegExp(`^type ${decl.name.text}\\b`), `type ${name}`);
  return `### ${name}\n\n\`\`\`ts\n${text}\n\`\`\`\n\n${prose(doc.text)}\n${members}${examplesBlock(doc.examples)}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(renderApiMarkdown());
}
