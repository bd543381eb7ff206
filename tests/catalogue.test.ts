/**
 * One catalogue of keys (components/config/keys.ts): Pulumi.yaml's `config:` block and the README's inputs
 * table are generated from it (`npm run catalogue`), and these tests fail when either file differs.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { parse as parseYaml } from "yaml";

import { CONFIG_KEYS, isDeclared, ConfigKeySpec } from "../components/config";
import { pulumiYamlConfigBlock, readmeInputsTable } from "../scripts/catalogue";

const ROOT = path.resolve(__dirname, "..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

describe("key catalogue", () => {
    it("Pulumi.yaml declares exactly what the catalogue generates (npm run catalogue)", () => {
        const project = parseYaml(read("Pulumi.yaml")) as { config: unknown };
        assert.deepEqual(project.config, (parseYaml(pulumiYamlConfigBlock()) as { config: unknown }).config);
    });

    it("declares only keys required in every mode or with one default for every mode", () => {
        for (const [key, spec] of Object.entries(CONFIG_KEYS) as [string, ConfigKeySpec][]) {
            assert.equal(isDeclared(spec), spec.required === true || spec.default !== undefined, key);
            assert.ok(!(spec.required === true && spec.default !== undefined), `${key}: required keys have no default`);
        }
    });

    it("the README's inputs table is the generated one", () => {
        assert.ok(
            read("README.md").includes(readmeInputsTable()),
            "README inputs table differs: paste `npm run catalogue -- readme`",
        );
    });

    it("stack files set only catalogue keys", () => {
        for (const file of fs
            .readdirSync(ROOT)
            .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
            .concat(fs.readdirSync(path.join(ROOT, "examples")).map((f) => `examples/${f}`))) {
            const stack = parseYaml(read(file)) as { config: Record<string, unknown> };
            for (const key of Object.keys(stack.config)) {
                assert.ok(
                    key.startsWith("gitops-dr:") && key.slice("gitops-dr:".length) in CONFIG_KEYS,
                    `${file}: ${key}`,
                );
            }
        }
    });
});
