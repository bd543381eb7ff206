// `npm test`: the type check, lint, format check and tests, all at once. They are independent, and together they
// keep two cores busy: the tests run in two mocha workers (one test file at a time each, `--parallel`), beside the
// type check, lint and format check. Each step says when it starts and how long it took, so no step is silent; the
// tests print each file's results as it ends, the other steps their output when they end, never interleaved.
import { spawn } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// The packages' own entry scripts (not every package exports them, so they are found by path, as npm installs them).
const bin = (pkg, file) => path.join(ROOT, "node_modules", pkg, file);
// Two workers even on one core (the files then share it), at most the cores there are beyond two.
const JOBS = String(Math.max(2, Math.min(os.availableParallelism?.() ?? os.cpus().length, 4)));
const STEPS = {
    "type check": [bin("typescript", "bin/tsc"), "--noEmit", "-p", "tsconfig.json"],
    lint: [bin("eslint", "bin/eslint.js"), "."],
    format: [bin("prettier", "bin/prettier.cjs"), "--check", "--log-level", "warn", "**/*.{ts,mjs,json}"],
    tests: [bin("mocha", "bin/mocha.js"), "--parallel", "--jobs", JOBS],
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
console.log(
    `npm test: type check (tsc), lint (eslint), format (prettier) and the tests (mocha, ${JOBS} workers) at once; ` +
        "about 4 minutes on 2 cores. Each test file's results print when the file ends.",
);
const results = await Promise.all([
    run("type check", false),
    run("lint", false),
    run("format", false),
    run("tests", true),
]);
const passed = results.every(Boolean);
console.log(`npm test: ${passed ? "passed" : "failed"} in ${Math.round((Date.now() - started) / 1000)} s`);
process.exitCode = passed ? 0 : 1;
