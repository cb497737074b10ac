// Compiles contracts/src with the pinned solcjs and writes reproducible artifacts
// (ABI + creation and runtime bytecode, no metadata hash) to contracts/artifacts.
//
//   node contracts/build.mjs           write the artifacts
//   node contracts/build.mjs --check   fail if the committed artifacts differ from a fresh build
import { readFileSync, readdirSync, writeFileSync, mkdirSync, existsSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const solc = require("solc");

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const srcDir = join(here, "src");
const outDir = join(here, "artifacts");
const check = process.argv.includes("--check");

// The deployable contracts; interfaces are compiled but get no artifact of their own.
const CONTRACTS = ["PINToken", "StakingManager", "TrainingManager", "SettlementRegistry", "EpochEmissions"];

export const SETTINGS = {
  optimizer: { enabled: true, runs: 1000 },
  evmVersion: "cancun",
  metadata: { bytecodeHash: "none", appendCBOR: false },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "evm.methodIdentifiers"] } },
};

function walk(dir) {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : name.endsWith(".sol") ? [path] : [];
  });
}

const sources = Object.fromEntries(
  walk(srcDir).map((path) => [relative(here, path), { content: readFileSync(path, "utf8") }]),
);

function findImports(path) {
  const candidates = [join(root, "node_modules", path), join(here, path)];
  for (const file of candidates) {
    if (existsSync(file)) return { contents: readFileSync(file, "utf8") };
  }
  return { error: `import not found: ${path}` };
}

const input = { language: "Solidity", sources, settings: SETTINGS };
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (output.errors ?? []).filter((e) => e.severity === "error");
for (const e of output.errors ?? []) console.error(e.formattedMessage);
if (errors.length > 0) process.exit(1);

const compiler = `solc ${solc.version()}`;
const artifacts = {};
for (const [file, contracts] of Object.entries(output.contracts)) {
  for (const [name, c] of Object.entries(contracts)) {
    if (!CONTRACTS.includes(name)) continue;
    artifacts[name] = {
      contractName: name,
      sourceName: file,
      compiler,
      settings: { optimizer: SETTINGS.optimizer, evmVersion: SETTINGS.evmVersion },
      abi: c.abi,
      bytecode: { object: "0x" + c.evm.bytecode.object },
      deployedBytecode: { object: "0x" + c.evm.deployedBytecode.object },
      methodIdentifiers: c.evm.methodIdentifiers,
    };
  }
}
for (const name of CONTRACTS) {
  if (!artifacts[name]) {
    console.error(`contract ${name} was not produced by the build`);
    process.exit(1);
  }
}

mkdirSync(outDir, { recursive: true });
let stale = [];
for (const name of CONTRACTS) {
  const path = join(outDir, `${name}.json`);
  const text = JSON.stringify(artifacts[name], null, 2) + "\n";
  if (check) {
    const old = existsSync(path) ? readFileSync(path, "utf8") : null;
    if (old !== text) stale.push(relative(root, path));
  } else {
    writeFileSync(path, text);
    const size = artifacts[name].deployedBytecode.object.length / 2 - 1;
    console.log(`${relative(root, path)}: ${size} bytes runtime`);
  }
}
if (stale.length > 0) {
  console.error(`stale contract artifacts (run \`npm run build\` and commit them): ${stale.join(", ")}`);
  process.exit(1);
}
if (check) console.log(`contract artifacts are up to date (${compiler})`);
