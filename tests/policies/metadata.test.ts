import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { parse as parseYaml } from "yaml";

import { DEFAULTS } from "../../policies/lib/config";
import { PACK_NAME, POLICIES } from "../../policies/policies";

const ROOT = path.resolve(__dirname, "../..");
const PACK_DIR = path.join(ROOT, "policies");

/** The policies that advise; every other one blocks. */
const ADVISORY = [
    "vault-lock-governance-mode",
    "vault-replica-missing",
    "velero-alerts-deployed",
    "velero-credentials-backed-up",
    "argocd-new-app-volumes-switch",
];

describe("policy metadata", () => {
    it("names are kebab-case <area>-<resource>-<rule>, unique, with a known area", () => {
        const names = POLICIES.map((p) => p.name);
        assert.equal(new Set(names).size, names.length);
        for (const name of names) {
            assert.match(name, /^(vault|velero|iam|argocd)(-[a-z0-9]+){2,}$/, name);
        }
    });

    it("descriptions are full sentences saying what is checked or advised", () => {
        for (const p of POLICIES) {
            assert.match(p.description, /^(Checks|Advises)\b[^\n]+\.$/, p.name);
            assert.ok(p.description.split(" ").length >= 8, p.name);
        }
    });

    it("enforcement levels: mandatory, but the five advisories, which say so", () => {
        for (const p of POLICIES) {
            const advisory = ADVISORY.includes(p.name);
            assert.equal(p.enforcementLevel, advisory ? "advisory" : "mandatory", p.name);
            assert.equal(p.description.startsWith("Advises"), advisory, p.name);
        }
        assert.deepEqual(
            POLICIES.filter((p) => p.enforcementLevel === "advisory")
                .map((p) => p.name)
                .sort(),
            [...ADVISORY].sort(),
        );
    });

    it("one policy per file under policies/rules, named after it", () => {
        const files = fs.readdirSync(path.join(PACK_DIR, "rules")).filter((f) => f.endsWith(".ts"));
        assert.deepEqual(files.map((f) => f.replace(/\.ts$/, "")).sort(), POLICIES.map((p) => p.name).sort());
        for (const file of files) {
            const source = fs.readFileSync(path.join(PACK_DIR, "rules", file), "utf8");
            assert.equal(
                (source.match(/^export const \w+: (Resource|Stack)ValidationPolicy = \{$/gm) ?? []).length,
                1,
                file,
            );
            assert.ok(source.includes(`name: "${file.replace(/\.ts$/, "")}",`), file);
        }
    });

    it("config schemas declare only the pack's thresholds, with their documented defaults and a description", () => {
        for (const p of POLICIES) {
            for (const [key, schema] of Object.entries(p.configSchema?.properties ?? {})) {
                assert.ok(key in DEFAULTS, `${p.name}: ${key}`);
                assert.deepEqual(schema.default, DEFAULTS[key as keyof typeof DEFAULTS], `${p.name}: ${key}`);
                assert.ok((schema.description ?? "").length > 20, `${p.name}: ${key}`);
            }
        }
    });

    it("a policy that reads thresholds declares a schema for them", () => {
        for (const p of POLICIES) {
            const source = fs.readFileSync(path.join(PACK_DIR, "rules", `${p.name}.ts`), "utf8");
            const read = [...source.matchAll(/const \{ ([\w, ]+) \} = thresholds\(args\)/g)].flatMap((m) =>
                m[1].split(", "),
            );
            assert.deepEqual(Object.keys(p.configSchema?.properties ?? {}).sort(), read.sort(), p.name);
        }
    });
});

describe("the pack as the Pulumi CLI loads it", () => {
    it("PulumiPolicy.yaml declares a Node.js pack", () => {
        const manifest = parseYaml(fs.readFileSync(path.join(PACK_DIR, "PulumiPolicy.yaml"), "utf8")) as Record<
            string,
            unknown
        >;
        assert.equal(manifest.runtime, "nodejs");
    });

    it("package.json gives the version the PolicyPack constructor reads, and installs nothing of its own", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(PACK_DIR, "package.json"), "utf8")) as Record<string, unknown>;
        assert.match(String(pkg.version), /^\d+\.\d+\.\d+$/);
        assert.equal(pkg.main, "index.ts");
        assert.equal(pkg.dependencies, undefined);
    });

    it("index.ts holds the PolicyPack call alone", () => {
        const code = fs
            .readFileSync(path.join(PACK_DIR, "index.ts"), "utf8")
            .replace(/\/\*\*[\s\S]*?\*\//g, "")
            .split("\n")
            .filter((l) => l.trim() !== "" && !l.startsWith("import "));
        assert.deepEqual(code, ["new PolicyPack(PACK_NAME, PACK_ARGS);"]);
        assert.match(PACK_NAME, /^[a-zA-Z0-9-_.]{1,100}$/);
    });

    it("every module of the pack resolves its packages from the root node_modules", () => {
        const missing: string[] = [];
        const walk = (dir: string): string[] =>
            fs
                .readdirSync(dir, { withFileTypes: true })
                .flatMap((e) =>
                    e.isDirectory()
                        ? walk(path.join(dir, e.name))
                        : e.name.endsWith(".ts")
                          ? [path.join(dir, e.name)]
                          : [],
                );
        for (const file of walk(PACK_DIR)) {
            for (const [, spec] of fs.readFileSync(file, "utf8").matchAll(/from "([^.][^"]*)"/g)) {
                try {
                    require.resolve(spec.startsWith("node:") ? spec : spec, { paths: [path.dirname(file)] });
                } catch {
                    missing.push(`${path.relative(ROOT, file)}: ${spec}`);
                }
            }
        }
        assert.deepEqual(missing, []);
    });
});

describe("docs/policies.md", () => {
    const doc = fs.readFileSync(path.join(ROOT, "docs", "policies.md"), "utf8");

    it("lists every policy with its enforcement level", () => {
        for (const p of POLICIES) {
            assert.ok(doc.includes(`| \`${p.name}\` | ${p.enforcementLevel} |`), p.name);
        }
    });

    it("documents every threshold with its default", () => {
        for (const [key, value] of Object.entries(DEFAULTS)) {
            assert.ok(doc.includes(`| \`${key}\` | \`${JSON.stringify(value)}\` |`), key);
        }
    });
});
