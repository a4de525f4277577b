/**
 * Builds what the npm package ships: `tsc -p tsconfig.build.json` (src/lib/ to
 * ESM JavaScript and `.d.ts` in dist/), through the compiler API for one
 * reason: tsc's `rewriteRelativeImportExtensions` rewrites `./app.ts` to
 * `./app.js` in the JavaScript but not in the declarations
 * (microsoft/TypeScript#61037). TypeScript 5 accepts that, but TypeScript 4
 * (TS2691), JetBrains IDEs and tools that load a `.d.ts` by its imports do
 * not, and dist/ has no `.ts` files: so the declarations get the same `.js`
 * specifiers as the code they describe.
 */
import { rmSync } from 'node:fs'
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const configPath = fileURLToPath(new URL('../tsconfig.build.json', import.meta.url))

const formatHost: ts.FormatDiagnosticsHost = {
  getCanonicalFileName: (name) => name,
  getCurrentDirectory: ts.sys.getCurrentDirectory,
  getNewLine: () => ts.sys.newLine,
}

function fail(diagnostics: readonly ts.Diagnostic[]): never {
  console.error(ts.formatDiagnosticsWithColorAndContext(diagnostics, formatHost))
  process.exit(1)
}

// `./x.ts` and `../x.ts` become `.js`, as in the JavaScript; package names and `.d.ts` stay.
function jsSpecifier(specifier: ts.Expression): ts.Expression {
  if (!ts.isStringLiteral(specifier)) return specifier
  const { text } = specifier
  if (!/^\.\.?\//.test(text) || !text.endsWith('.ts') || text.endsWith('.d.ts')) return specifier
  return ts.factory.createStringLiteral(`${text.slice(0, -3)}.js`)
}

// Every place a declaration file names a module: import, export ... from, import('...') types.
const rewriteSpecifiers: ts.TransformerFactory<ts.SourceFile | ts.Bundle> = (context) => {
  const { factory } = context
  const visit = (node: ts.Node): ts.Node => {
    if (ts.isImportDeclaration(node)) {
      const { modifiers, importClause, moduleSpecifier, attributes } = node
      return factory.updateImportDeclaration(node, modifiers, importClause, jsSpecifier(moduleSpecifier), attributes)
    }
    if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const { modifiers, isTypeOnly, exportClause, moduleSpecifier, attributes } = node
      return factory.updateExportDeclaration(
        node,
        modifiers,
        isTypeOnly,
        exportClause,
        jsSpecifier(moduleSpecifier),
        attributes,
      )
    }
    if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const argument = factory.updateLiteralTypeNode(
        node.argument,
        jsSpecifier(node.argument.literal) as ts.StringLiteral,
      )
      return factory.updateImportTypeNode(
        node,
        argument,
        node.attributes,
        node.qualifier,
        node.typeArguments,
        node.isTypeOf,
      )
    }
    return ts.visitEachChild(node, visit, context)
  }
  return (file) => ts.visitNode(file, visit) as ts.SourceFile | ts.Bundle
}

const config = ts.getParsedCommandLineOfConfigFile(
  configPath,
  {},
  { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (diagnostic) => fail([diagnostic]) },
)
if (!config) throw new Error(`cannot read ${configPath}`)
if (config.errors.length > 0) fail(config.errors)

// No file of an earlier build (or of anything else) may end up in the package.
rmSync(config.options.outDir as string, { recursive: true, force: true })

const program = ts.createProgram({ rootNames: config.fileNames, options: config.options })
const emitted = program.emit(undefined, undefined, undefined, undefined, { afterDeclarations: [rewriteSpecifiers] })
const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics]
if (diagnostics.length > 0 || emitted.emitSkipped) fail(diagnostics)
