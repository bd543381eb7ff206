// `npm test`: type check and lint side by side (they are independent, and the machine this runs on has at least
// two cores), then the format check, then the tests. Each step says when it starts and how long it took, so no
// step is silent; a parallel step's output is printed whole when it ends, not interleaved.
import { spawn } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// The packages' own entry scripts (not every package exports them, so they are found by path, as npm installs them).
const bin = (pkg, file) => path.join(ROOT, "node_modules", pkg, file);
const STEPS = {
    "type check": [bin("typescript", "bin/tsc"), "--noEmit", "-p", "tsconfig.json"],
    lint: [bin("eslint", "bin/eslint.js"), "."],
    format: [bin("prettier", "bin/prettier.cjs"), "--check", "--log-level", "warn", "**/*.{ts,mjs,json}"],
    tests: [bin("mocha", "bin/mocha.js")],
};

/** Runs a step; `inherit` streams its output, otherwise it is printed when the step ends. */
function run(name, inherit) {
    const started = Date.now();
    return new Promise((resolve) => {
        const child = spawn(process.execPath, STEPS[name], { cwd: ROOT, stdio: inherit ? "inherit" : "pipe" });
        let output = "";
        child.stdout?.on("data", (d) => (output += d));
        child.stderr?.on("data", (d) => (output += d));
        child.on("close", (code) => {
            const seconds = Math.round((Date.now() - started) / 1000);
            process.stdout.write(`${output}${name}: ${code === 0 ? "ok" : `failed (exit ${code})`} in ${seconds} s\n`);
            resolve(code === 0);
        });
    });
}

const started = Date.now();
console.log("[1/3] type check (tsc) and lint (eslint), side by side: about a minute");
const [typed, linted] = await Promise.all([run("type check", false), run("lint", false)]);
console.log("[2/3] format (prettier)");
const formatted = await run("format", false);
let tested = false;
if (typed && linted && formatted) {
    console.log("[3/3] tests (mocha): about three to four minutes on 2 cores, each test printed as it passes");
    tested = await run("tests", true);
}
console.log(`npm test: ${tested ? "passed" : "failed"} in ${Math.round((Date.now() - started) / 1000)} s`);
process.exitCode = tested ? 0 : 1;
