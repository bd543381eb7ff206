/**
 * The layout the features land in (#25): each concern in one obvious place, the engine product tooling rather than a
 * test, no file that outgrew itself, one prefix for what the program writes into clusters, and the whole program's
 * outputs registered by its component.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { runProgram } from "../engine";
import { KEY_PREFIX } from "../components/names";
import { STACK_REFERENCES, STACK_SECRETS } from "./fixtures";

const ROOT = path.resolve(__dirname, "..");

/** Every TypeScript source file of the repository, outside node_modules, relative to the root. */
function sources(dir = ROOT): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
            return entry.name === "node_modules" || entry.name.startsWith(".") ? [] : sources(full);
        }
        return entry.name.endsWith(".ts") ? [path.relative(ROOT, full)] : [];
    });
}

/** Test files may be long (one case per rule); source files may not. */
const MAX_SOURCE_LINES = 600;

describe("layout", () => {
    const files = sources();

    it("no module outside tests/ imports from tests/", () => {
        const offenders = files
            .filter((f) => !f.startsWith(`tests${path.sep}`))
            .filter((f) => /from "(\.\.\/)+tests\//.test(fs.readFileSync(path.join(ROOT, f), "utf8")));
        assert.deepEqual(offenders, []);
    });

    it(`no source file is over ${MAX_SOURCE_LINES} lines`, () => {
        const long = files
            .filter((f) => !f.startsWith(`tests${path.sep}`) && !f.startsWith(`policies${path.sep}testing`))
            .map((f) => [f, fs.readFileSync(path.join(ROOT, f), "utf8").split("\n").length] as const)
            .filter(([, lines]) => lines > MAX_SOURCE_LINES);
        assert.deepEqual(long, []);
    });

    it("every annotation and label the program writes uses the one prefix", async () => {
        const runs = [
            await runProgram({
                stack: "prod",
                secrets: STACK_SECRETS,
                config: { restoreId: "r1", restoreNamespaces: ["shop"] },
            }),
            await runProgram({
                stack: "drill",
                secrets: STACK_SECRETS,
                stackReferences: STACK_REFERENCES,
                config: { drillChecks: ["shop/deploy/api true"] },
            }),
        ];
        const keys = new Set<string>();
        for (const run of runs) {
            for (const r of run.resources) {
                const metadata = (r.inputs.metadata ?? {}) as { annotations?: object; labels?: object };
                for (const key of [...Object.keys(metadata.annotations ?? {}), ...Object.keys(metadata.labels ?? {})]) {
                    keys.add(key);
                }
            }
        }
        const ours = [...keys].filter((k) => k.startsWith("gitops-dr"));
        assert.ok(ours.length >= 2, `expected gitops-dr annotations, found ${[...keys].join(", ")}`);
        assert.deepEqual(
            ours.filter((k) => !k.startsWith(KEY_PREFIX)),
            [],
        );
    });

    it("GitopsDr registers the outputs it exposes", async () => {
        const run = await runProgram({ stack: "drill", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES });
        const component = run.one("gitops-dr:index:GitopsDr");
        // registerOutputs reaches the engine as the component's outputs.
        for (const key of [
            "bucketName",
            "kmsKeyArn",
            "veleroNamespace",
            "restore",
            "syncGate",
            "argoCdNamespace",
            "drillReport",
        ]) {
            assert.ok(component.outputs[key] !== undefined, `GitopsDr output ${key}`);
        }
    });
});
