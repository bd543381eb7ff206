/**
 * The README as a newcomer meets it: the first screen, the recipes (their `pulumi config` and
 * `pulumi stack init` commands replayed exactly as the CLI would store them, then the stack run on the engine),
 * and every section or file that the README, the stack files and docs/ point to.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { StackValue, pulumiConfigSet, readStackFile, shellWords, stackFilePath } from "../engine";
import { ProgramRun, runProgram } from "../engine";
import { STACK_REFERENCES, STACK_SECRETS } from "./fixtures";

const ROOT = path.resolve(__dirname, "..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");
const README = read("README.md");

/** The body of a `## ` section. */
function section(title: string): string {
    const start = README.indexOf(`\n## ${title}\n`);
    assert.ok(start >= 0, `README has no section "${title}"`);
    const end = README.indexOf("\n## ", start + 1);
    return README.slice(start, end < 0 ? undefined : end);
}

/**
 * The shell commands of a section's ```sh blocks (or of one block), comments removed. `"$(pulumi stack output X)"`
 * becomes the stack's output X from `outputs`; any other `"$(...)"` a placeholder value.
 */
function commands(title: string, block?: number, outputs: Readonly<Record<string, unknown>> = {}): string[][] {
    const blocks = [...section(title).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
    return (block === undefined ? blocks : [blocks[block]])
        .flatMap((b) => b.split("\n"))
        .map((line) => {
            const substituted = line
                .replace(/"\$\(pulumi stack output (\w+)\)"/g, (_, name: string) => `"${String(outputs[name])}"`)
                .replace(/"\$\([^)]*\)"/g, '"value-of-a-shell-command-0123456789abcdef"');
            const words = shellWords(substituted);
            const comment = words.findIndex((w) => w.startsWith("#"));
            return comment < 0 ? words : words.slice(0, comment);
        })
        .filter((w) => w.length > 0);
}

/** Replays a recipe's commands onto a stack's values; `stacks` holds the values of stacks made before. */
function replay(
    title: string,
    start: { stack: string; values: Map<string, StackValue> } | undefined,
    stacks: Map<string, Map<string, StackValue>>,
    block?: number,
    outputs: Readonly<Record<string, unknown>> = {},
): { stack: string; values: Map<string, StackValue> } {
    let stack = start?.stack ?? "";
    let values = start === undefined ? undefined : new Map(start.values);
    for (const words of commands(title, block, outputs)) {
        if (words[0] !== "pulumi") {
            continue;
        }
        if (words[1] === "stack" && words[2] === "init") {
            stack = words[3];
            const from = words.indexOf("--copy-config-from");
            values = from >= 0 ? new Map(stacks.get(words[from + 1])) : (values ?? new Map());
            assert.ok(values.size > 0 || from < 0, `${title}: copies config from an unknown stack ${words[from + 1]}`);
        } else if (words[1] === "config" && (words[2] === "set" || words[2] === "rm")) {
            assert.ok(values !== undefined, `${title}: config set before stack init`);
            pulumiConfigSet(values, words.slice(2), "gitops-dr");
        }
    }
    assert.ok(values !== undefined && stack !== "", `${title}: no stack was made`);
    return { stack, values };
}

/** A stack file as the tests have it (tests/fixtures/stacks: the shipped ones are the user's to edit). */
const fromFile = (file: string) => readStackFile(fs.readFileSync(stackFilePath(file), "utf8"), "gitops-dr");

describe("README", () => {
    it("its first screen (40 lines) says what it is and gives the two commands", () => {
        const first = README.split("\n").slice(0, 40).join("\n");
        assert.match(first, /^# gitops-dr/);
        assert.match(first, /npm ci/);
        assert.match(first, /npm test/);
    });

    describe("recipes, replayed as the CLI stores the commands", () => {
        const stacks = new Map<string, Map<string, StackValue>>();
        let prod: ProgramRun;

        it("Protect a cluster: prod starts and warns about nothing", async () => {
            const { stack, values } = replay(
                "Protect a cluster",
                { stack: "prod", values: fromFile("Pulumi.prod.yaml") },
                stacks,
            );
            assert.equal(stack, "prod");
            stacks.set(stack, values);
            prod = await runProgram({ stack, stackValues: values });
            assert.deepEqual(prod.warnings, []);
            assert.equal(prod.outputs.dailyScheduleName, "prod-eu-1-daily");
        });

        it("Recover a lost cluster: made from prod's config, it starts, restores prod's backups and matches examples/Pulumi.recover.yaml", async () => {
            const { stack, values } = replay("Recover a lost cluster", undefined, stacks, 0);
            const run = await runProgram({ stack, stackValues: values, stackReferences: STACK_REFERENCES });
            assert.deepEqual(run.warnings, []);
            assert.equal(run.outputs.mode, "recover");
            assert.equal(run.outputs.sourcePrefix, "prod-eu-1");
            assert.equal(run.outputs.prefix, "prod-eu-2");
            const example = fromFile("examples/Pulumi.recover.yaml");
            const plain = (m: Map<string, StackValue>) =>
                JSON.stringify([...m].filter(([k]) => k !== "gitops-dr:repoPassword").sort());
            assert.equal(plain(values), plain(example), "the example is what the recipe produces");

            // After the recovery: the stack becomes a protect stack that joins the vault, with no source left.
            const after = replay("Recover a lost cluster", { stack, values }, stacks, 1, run.outputs);
            const protect = await runProgram({ stack, stackValues: after.values });
            assert.deepEqual(protect.warnings, []);
            assert.equal(protect.outputs.mode, "protect");
            assert.equal(protect.outputs.prefix, "prod-eu-2");
            assert.equal(
                protect.ofType("aws:s3/bucket:Bucket").length,
                0,
                "it joins the vault, it does not create one",
            );
            assert.equal(protect.ofType("kubernetes:velero.io/v1:Restore").length, 0);
        });

        it("Run the yearly drill: starts, verifies with the configured check, warns about nothing", async () => {
            const { stack, values } = replay(
                "Run the yearly drill",
                { stack: "drill", values: fromFile("Pulumi.drill.yaml") },
                stacks,
            );
            const run = await runProgram({ stack, stackValues: values, stackReferences: STACK_REFERENCES });
            assert.deepEqual(run.warnings, []);
            assert.deepEqual((run.outputs.drillReport as { checksPassed: string[] }).checksPassed.slice(-1), [
                "check-1",
            ]);
        });

        it("Recover one namespace: the protect stack registers one Restore of that namespace", async () => {
            const { values } = replay("Recover one namespace", { stack: "prod", values: stacks.get("prod")! }, stacks);
            const run = await runProgram({ stack: "prod", stackValues: values });
            const restore = run.restore();
            assert.deepEqual((restore.inputs.spec as { includedNamespaces: string[] }).includedNamespaces, ["shop"]);
            assert.deepEqual(run.warnings, []);
        });

        it("When the vault's region is down: the recovery recipe plus its command reads the replica, and so does the drill", async () => {
            const recovery = replay("Recover a lost cluster", undefined, stacks, 0);
            const { stack, values } = replay("When the vault's region is down", recovery, stacks);
            const run = await runProgram({ stack, stackValues: values, stackReferences: STACK_REFERENCES });
            assert.deepEqual(run.warnings, []);
            const buckets = (r: ProgramRun) =>
                r
                    .ofType("kubernetes:velero.io/v1:BackupStorageLocation")
                    .map((l) => (l.inputs.spec as { objectStorage: { bucket: string } }).objectStorage.bucket);
            assert.deepEqual(buckets(run), ["acme-gitops-dr-vault-replica"]);
            assert.equal(run.outputs.bucketName, "acme-gitops-dr-vault", "its own backups still go to the vault");
            const drill = replay(
                "When the vault's region is down",
                { stack: "drill", values: fromFile("Pulumi.drill.yaml") },
                stacks,
            );
            const drillRun = await runProgram({
                stack: "drill",
                stackValues: drill.values,
                secrets: STACK_SECRETS,
                stackReferences: STACK_REFERENCES,
            });
            assert.deepEqual(buckets(drillRun), ["acme-gitops-dr-vault-replica"]);
        });

        it("Homelab (k3s): a stack from nothing that makes Velero's key, and its recovery onto a new machine", async () => {
            const home = replay("Homelab (k3s)", undefined, stacks, 0);
            assert.equal(home.stack, "home");
            stacks.set(home.stack, home.values);
            const protect = await runProgram({ stack: home.stack, stackValues: home.values });
            assert.deepEqual(protect.warnings, []);
            assert.equal(protect.one("aws:iam/user:User").inputs.name, "home-velero");
            assert.equal(protect.ofType("aws:iam/accessKey:AccessKey").length, 1);
            // k3s local-path volumes take file-system backup: the node agent runs.
            const values = protect.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.name.includes("velero"))!
                .inputs.values as { deployNodeAgent?: boolean };
            assert.equal(values.deployNodeAgent, true);

            const { stack, values: recoverValues } = replay("Homelab (k3s)", undefined, stacks, 1);
            const recover = await runProgram({
                stack,
                stackValues: recoverValues,
                stackReferences: { "jdoe/gitops-dr/home": protect.outputs },
            });
            assert.deepEqual(recover.warnings, []);
            assert.equal(recover.outputs.sourcePrefix, "home");
            assert.equal(recover.one("aws:iam/user:User").inputs.name, "home-2-velero");
            assert.equal((recover.outputs.restore as { phase?: string }).phase, "Completed");
        });

        it("New apps: the switch is accepted in protect and warned about while on", async () => {
            const values = new Map(stacks.get("prod"));
            pulumiConfigSet(values, commands("New apps: first claims and Secrets")[0].slice(2), "gitops-dr");
            const run = await runProgram({ stack: "prod", stackValues: values });
            assert.equal(run.warnings.length, 1);
            assert.match(run.warnings[0], /shop/);
        });
    });

    it("every command in a recipe is one the CLI takes (lists with --path, secrets with --secret)", () => {
        for (const title of [
            "Protect a cluster",
            "Recover a lost cluster",
            "Run the yearly drill",
            "When the vault's region is down",
            "Recover one namespace",
            "New apps: first claims and Secrets",
            "Homelab (k3s)",
        ]) {
            for (const words of commands(title).filter(
                (w) => w[0] === "pulumi" && w[1] === "config" && w[2] === "set",
            )) {
                const key = words.filter((w) => !w.startsWith("--"))[3];
                assert.ok(key.startsWith("gitops-dr:"), `${title}: ${words.join(" ")}`);
                if (key.includes("[")) {
                    assert.ok(words.includes("--path"), `${title}: a list element needs --path: ${words.join(" ")}`);
                }
                if (/repoPassword|gitPassword|gitSshPrivateKey|awsSecretAccessKey|awsAccessKeyId/.test(key)) {
                    assert.ok(words.includes("--secret"), `${title}: a secret needs --secret: ${words.join(" ")}`);
                }
            }
        }
    });
});

describe("references", () => {
    /** GitHub's anchor for a heading. */
    const anchor = (heading: string) =>
        heading
            .toLowerCase()
            .replace(/[^\w\- ]/g, "")
            .replace(/ /g, "-");
    const headings = (text: string) => [...text.matchAll(/^#{1,4} (.+)$/gm)].map((m) => m[1].trim());
    const docs = fs
        .readdirSync(path.join(ROOT, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => `docs/${f}`);
    const runbooks = fs.readdirSync(path.join(ROOT, "docs", "runbooks")).map((f) => `docs/runbooks/${f}`);
    const code = (dir: string): string[] =>
        fs
            .readdirSync(path.join(ROOT, dir), { withFileTypes: true })
            .flatMap((e) =>
                e.isDirectory() ? code(`${dir}/${e.name}`) : e.name.endsWith(".ts") ? [`${dir}/${e.name}`] : [],
            );
    // Messages and generated runbooks point users to sections too.
    const sources = [
        "README.md",
        ...docs,
        ...runbooks,
        "Pulumi.prod.yaml",
        "Pulumi.drill.yaml",
        "examples/Pulumi.recover.yaml",
        "Pulumi.yaml",
        ...code("components"),
        ...code("policies"),
        ...code("scripts"),
    ];

    it("every #anchor link in the README and docs names a heading of that file", () => {
        for (const file of ["README.md", ...docs]) {
            const text = read(file);
            const anchors = new Set(headings(text).map(anchor));
            for (const m of text.matchAll(/\]\(#([^)]+)\)/g)) {
                assert.ok(anchors.has(m[1]), `${file}: no heading for #${m[1]}`);
            }
        }
    });

    it('every (README, "Section") and (docs/x.md, "Section") reference names a real section', () => {
        for (const file of sources) {
            const text = read(file);
            for (const m of text.matchAll(/(README|docs\/[\w.-]+\.md),\s*\\?"([^"\\]+)\\?"/g)) {
                const target = m[1] === "README" ? "README.md" : m[1];
                assert.ok(fs.existsSync(path.join(ROOT, target)), `${file}: ${target} does not exist`);
                assert.ok(headings(read(target)).includes(m[2]), `${file}: ${target} has no section "${m[2]}"`);
            }
        }
    });

    it("every file path the README and docs name exists", () => {
        for (const file of sources) {
            for (const m of read(file).matchAll(
                /\b((?:docs|examples|components|policies|scripts|tests)\/[\w./-]+\.(?:md|ts|yaml|yml))\b/g,
            )) {
                assert.ok(fs.existsSync(path.join(ROOT, m[1])), `${file}: ${m[1]} does not exist`);
            }
        }
    });

    it("tsconfig.json includes only paths that exist", () => {
        const tsconfig = JSON.parse(read("tsconfig.json")) as { include: string[] };
        for (const pattern of tsconfig.include) {
            assert.ok(fs.existsSync(path.join(ROOT, pattern.split("/")[0])), pattern);
        }
    });
});
