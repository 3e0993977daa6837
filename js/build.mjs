// Bundle each view entry (src/<stem>.ts) to ../tbwidgets/widgets/static/<stem>.js (+ .css).
// `node build.mjs --check` rebuilds into a temp dir and fails if the committed bundle differs (CI).
import { build } from "esbuild";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ENTRIES = ["src/validator.ts", "src/explorer.ts"];
const OUT = "../tbwidgets/widgets/static";
const check = process.argv.includes("--check");
const outdir = check ? mkdtempSync(join(tmpdir(), "tbw-")) : OUT;

await build({
  entryPoints: ENTRIES,
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: true,
  legalComments: "none",
  outdir,
  logLevel: "warning",
});

if (check) {
  let stale = [];
  for (const entry of ENTRIES) {
    const stem = entry.replace(/^src\//, "").replace(/\.ts$/, "");
    for (const ext of [".js", ".css"]) {
      const fresh = join(outdir, stem + ext);
      const committed = join(OUT, stem + ext);
      if (!existsSync(fresh)) continue;
      if (!existsSync(committed) || readFileSync(fresh, "utf8") !== readFileSync(committed, "utf8")) stale.push(committed);
    }
  }
  if (stale.length) {
    console.error(`Stale bundle: ${stale.join(", ")}. Run \`npm run build\` in js/ and commit.`);
    process.exit(1);
  }
  console.log("Bundle is up to date.");
}
