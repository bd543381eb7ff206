/**
 * How fast Velero moves volume data: the node-agent ConfigMap's loadConcurrency, the Restore's parallelFilesDownload
 * and the Schedules' parallelFilesUpload; valid against the CRDs and the node agent's config types, overridable by
 * config, every config rule reported.
 */
import * as assert from "node:assert/strict";

import Ajv from "ajv";

import { needReference } from "./reference";
import { parseConfigWithWarnings, RawConfig } from "../components/config";
import { ConfigError } from "../components/config";
import { veleroValues } from "../components/velero";
import { NodeAgentConfig, nodeAgentConfig } from "../components/velero/node-agent";
import { ConfigInput, ProgramRun, runProgram, STACKS, StackName, stackRunOptions } from "../engine";
import { crdCatalog, referenceDir, validateCustomResources } from "../scripts/render/crds";
import { registeredCustomResources } from "../scripts/render/records";
import { PROTECT_RAW, plain } from "./fixtures";

const PROTECT: RawConfig = PROTECT_RAW;
const withKeys = (changes: Record<string, string>): RawConfig => ({
    ...PROTECT,
    ...Object.fromEntries(Object.entries(changes).map(([k, v]) => [k, plain(v)])),
});

function problemsOf(raw: RawConfig): { key: string; message: string }[] {
    try {
        parseConfigWithWarnings(raw, "prod");
        return [];
    } catch (e) {
        if (e instanceof ConfigError) {
            return [...e.problems];
        }
        throw e;
    }
}
function onlyProblem(raw: RawConfig, key: string): string {
    const problems = problemsOf(raw);
    assert.deepEqual(
        problems.map((p) => p.key),
        [`gitops-dr:${key}`],
        problems.map((p) => `${p.key}: ${p.message}`).join("\n"),
    );
    return problems[0].message;
}

/**
 * `NodeAgentConfigs` and the types it holds (velero v1.18.1 `pkg/types/node_agent.go`, `pkg/util/kube`
 * `LoadAffinity`), as JSON Schema. Stricter than the node agent: `json.Unmarshal` ignores an unknown field, which
 * here fails; a value of the wrong type makes `nodeagent.GetConfigs` fail, and the node agent does not start.
 */
const LABEL_SELECTOR = {
    type: "object",
    additionalProperties: false,
    properties: {
        matchLabels: { type: "object", additionalProperties: { type: "string" } },
        matchExpressions: { type: "array" },
    },
};
const NODE_AGENT_CONFIGS_SCHEMA = {
    type: "object",
    additionalProperties: false,
    properties: {
        loadConcurrency: {
            type: "object",
            additionalProperties: false,
            properties: {
                globalConfig: { type: "integer" },
                perNodeConfig: {
                    type: "array",
                    items: {
                        type: "object",
                        additionalProperties: false,
                        required: ["nodeSelector", "number"],
                        properties: { nodeSelector: LABEL_SELECTOR, number: { type: "integer" } },
                    },
                },
                prepareQueueLength: { type: "integer" },
            },
        },
        loadAffinity: {
            type: "array",
            items: {
                type: "object",
                additionalProperties: false,
                required: ["nodeSelector"],
                properties: { nodeSelector: LABEL_SELECTOR, storageClass: { type: "string" } },
            },
        },
        backupPVC: { type: "object" },
        restorePVC: {
            type: "object",
            additionalProperties: false,
            properties: { ignoreDelayBinding: { type: "boolean" } },
        },
        podResources: { type: "object" },
        priorityClassName: { type: "string" },
        privilegedFsBackup: { type: "boolean" },
        cachePVC: { type: "object" },
        podAnnotations: { type: "object" },
        podLabels: { type: "object" },
    },
};
const validateNodeAgentConfig = new Ajv({ allErrors: true, strict: false }).compile(NODE_AGENT_CONFIGS_SCHEMA);

/** The node-agent document a run's Velero release carries. */
function nodeAgentDocument(run: ProgramRun): NodeAgentConfig {
    const release = run.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.inputs.chart === "velero")!;
    const values = release.inputs.values as { configMaps: Record<string, { data: Record<string, string> }> };
    return JSON.parse(values.configMaps["node-agent-config"].data["node-agent-config.json"]) as NodeAgentConfig;
}
const specOf = (r: { inputs: Record<string, unknown> }) => r.inputs.spec as Record<string, Record<string, unknown>>;
const dataRestore = (run: ProgramRun) =>
    run.ofType("kubernetes:velero.io/v1:Restore").find((r) => !r.name.includes("credentials"))!;
const run = (stack: StackName, config: Record<string, ConfigInput> = {}) =>
    runProgram(stackRunOptions(STACKS[stack], config));

describe("data path: node-agent loadConcurrency", () => {
    it("defaults to 2 loads per node, no per-node rule; valid against NodeAgentConfigs", async () => {
        const doc = nodeAgentDocument(await run("prod"));
        assert.deepEqual(doc.loadConcurrency, { globalConfig: 2 });
        assert.ok(validateNodeAgentConfig(doc), JSON.stringify(validateNodeAgentConfig.errors));
    });

    it("takes gitops-dr:dataMoverConcurrency and dataMoverNodeConcurrency, each rule a label selector and a number", async () => {
        const doc = nodeAgentDocument(
            await run("drill", {
                dataMoverConcurrency: 3,
                dataMoverNodeConcurrency: [
                    "node.kubernetes.io/instance-type=m6i.2xlarge:8",
                    "kubernetes.io/hostname=node-1,topology.kubernetes.io/zone=eu-west-1a:1",
                ],
                dataMoverNodeLabels: ["topology.kubernetes.io/zone=eu-west-1a"],
            }),
        );
        assert.deepEqual(doc.loadConcurrency, {
            globalConfig: 3,
            perNodeConfig: [
                { nodeSelector: { matchLabels: { "node.kubernetes.io/instance-type": "m6i.2xlarge" } }, number: 8 },
                {
                    nodeSelector: {
                        matchLabels: {
                            "kubernetes.io/hostname": "node-1",
                            "topology.kubernetes.io/zone": "eu-west-1a",
                        },
                    },
                    number: 1,
                },
            ],
        });
        // What the node agent needed before stays: restored claims bound at once, data movers in one zone.
        assert.deepEqual(doc.restorePVC, { ignoreDelayBinding: true });
        assert.equal(doc.loadAffinity?.length, 1);
        assert.ok(validateNodeAgentConfig(doc), JSON.stringify(validateNodeAgentConfig.errors));
    });

    it("the schema refuses what the node agent could not read (it fails the strictness the test relies on)", () => {
        const bad = { loadConcurrency: { globalConfig: "2", perNodeConfig: [{ nodeSelector: {}, numbr: 3 }] } };
        assert.equal(validateNodeAgentConfig(bad), false);
        assert.equal(validateNodeAgentConfig({ prepareQueueLength: 10 }), false, "belongs in loadConcurrency");
    });

    it("a changed configuration changes the node agent's pod label, so the DaemonSet rolls", () => {
        const base = {
            mode: "protect",
            releaseName: "velero",
            namespace: "velero",
            volumeDataMode: "dataMover",
            awsPluginVersion: "v1.14.1",
            bucketName: "b",
            region: "eu-west-1",
            kmsKeyArn: "k",
            writePrefix: "prod-eu-1",
            tiers: [],
            excludedNamespaces: [],
            argoCdNamespace: "argocd",
            credentials: { mode: "podIdentity" },
            prometheusOperator: false,
        } as const;
        const label = (loads: number) =>
            (
                veleroValues({
                    ...base,
                    dataPath: {
                        loadConcurrency: loads,
                        perNodeConcurrency: [],
                        parallelFilesUpload: 8,
                        parallelFilesDownload: 8,
                    },
                }).nodeAgent as { podLabels: Record<string, string> }
            ).podLabels["gitops-dr.io/node-agent-config"];
        assert.equal(label(2), label(2));
        assert.notEqual(label(2), label(4));
    });

    it("without arguments, nodeAgentConfig is Velero's default of one load per node", () => {
        assert.deepEqual(nodeAgentConfig().loadConcurrency, { globalConfig: 1 });
    });
});

describe("data path: kopia files per volume", () => {
    it("the Restore and every data Schedule carry the configured parallelism", async () => {
        const drill = await run("drill", { restoreParallelFiles: 16 });
        assert.deepEqual(specOf(dataRestore(drill)).uploaderConfig, { parallelFilesDownload: 16 });
        // The credentials Restore holds no volume: nothing to tune.
        const credentials = drill.ofType("kubernetes:velero.io/v1:Restore").find((r) => r.name.includes("credentials"));
        assert.equal(specOf(credentials!).uploaderConfig, undefined);

        const prod = await run("prod", { backupParallelFiles: 4, weeklyBackupTtl: "744h" });
        const tiers = prod
            .ofType("kubernetes:velero.io/v1:Schedule")
            .filter((s) => !String((s.inputs.metadata as { name: string }).name).endsWith("credentials"));
        assert.equal(tiers.length, 2);
        for (const s of tiers) {
            assert.deepEqual(specOf(s).template.uploaderConfig, {
                parallelFilesUpload: 4,
            });
        }
    });

    it("the node agent gets its load limit whenever it runs, for file-system backup without the data mover too", async () => {
        const values = async (config: Record<string, ConfigInput>) => {
            const r = await run("prod", { volumeDataMode: "nativeSnapshots", ...config });
            const velero = r.ofType("kubernetes:helm.sh/v3:Release").find((x) => x.inputs.chart === "velero");
            return velero?.inputs.values as { deployNodeAgent: boolean; nodeAgent: { extraArgs?: string[] } };
        };
        const fsb = await values({ dataMoverConcurrency: 3 });
        assert.equal(fsb.deployNodeAgent, true);
        assert.match(String(fsb.nodeAgent.extraArgs), /--node-agent-configmap=/);
        const none = await values({ fileSystemBackupVolumeTypes: [] });
        assert.equal(none.deployNodeAgent, false);
        assert.deepEqual(none.nodeAgent, {});
    });

    it("every Restore and Schedule is valid against the velero 1.18 CRDs", async function () {
        needReference(this, "the Restore and Schedule CRD test", [
            ["velero-1.18-crds", "restores.yaml"],
            ["velero-1.18-crds", "schedules.yaml"],
        ]);
        const dir = referenceDir();
        if (dir === undefined) {
            this.skip();
        }
        const catalog = crdCatalog([], dir);
        for (const r of [
            await run("drill", { restoreParallelFiles: 16 }),
            await run("prod", { backupParallelFiles: 4 }),
        ]) {
            const objects = registeredCustomResources(r).filter((o) => ["Restore", "Schedule"].includes(o.object.kind));
            assert.ok(objects.length > 0);
            for (const result of validateCustomResources(objects, catalog)) {
                assert.equal(result.status, "pass", `${result.subject}: ${result.detail}`);
            }
        }
        // The check would catch a misspelt or mistyped field.
        const restore = registeredCustomResources(await run("drill")).find((o) => o.object.kind === "Restore")!;
        const broken = {
            ...restore,
            object: {
                ...restore.object,
                spec: { ...(restore.object.spec as object), uploaderConfig: { parallelFilesDownload: "8" } },
            },
        };
        assert.equal(validateCustomResources([broken], catalog)[0].status, "fail");
    });
});

describe("data path: config rules", () => {
    it("defaults: 2 loads per node, no per-node rule, 8 files per volume both ways", () => {
        assert.deepEqual(parseConfigWithWarnings(PROTECT, "prod").config.dataPath, {
            loadConcurrency: 2,
            perNodeConcurrency: [],
            parallelFilesUpload: 8,
            parallelFilesDownload: 8,
        });
    });

    it("dataMoverConcurrency must be between 1 and 32", () => {
        assert.equal(
            onlyProblem(withKeys({ dataMoverConcurrency: "0" }), "dataMoverConcurrency"),
            "0 is out of range; it must be between 1 and 32. Fix: `pulumi config set gitops-dr:dataMoverConcurrency 2`.",
        );
    });

    const NODE_FIX =
        "Fix: `pulumi config set --path 'gitops-dr:dataMoverNodeConcurrency[0]' node.kubernetes.io/instance-type=m6i.2xlarge:8`.";
    for (const [entry, issue] of [
        ["node.kubernetes.io/instance-type=m6i.2xlarge", "is not key=value:N"],
        ["instance type=m6i:4", 'has "instance type=m6i", which is not a node label key=value'],
        ["a=1,a=2:4", 'names the label "a" twice'],
        ["kubernetes.io/hostname=node-1:0", 'has "0" loads; it must be a whole number between 1 and 32'],
    ]) {
        it(`dataMoverNodeConcurrency entry ${JSON.stringify(entry)}: ${issue}`, () => {
            assert.equal(
                onlyProblem(
                    withKeys({ dataMoverNodeConcurrency: JSON.stringify([entry]) }),
                    "dataMoverNodeConcurrency",
                ),
                `entry ${JSON.stringify(entry)} ${issue}. ${NODE_FIX}`,
            );
        });
    }

    it("dataMoverNodeConcurrency: two entries for the same nodes", () => {
        assert.equal(
            onlyProblem(
                withKeys({ dataMoverNodeConcurrency: JSON.stringify(["a=1,b=2:4", "b=2,a=1:8"]) }),
                "dataMoverNodeConcurrency",
            ),
            'entry "b=2,a=1:8" selects the same nodes as an earlier one (Velero would take the smaller number). Fix: keep one entry per selector.',
        );
    });

    it("warns that the node agent's keys do nothing without the data mover and file-system backup", () => {
        const nodeKeys = {
            volumeDataMode: "nativeSnapshots",
            // Its own warning with native snapshots (tests/config.test.ts).
            verifySchedule: "off",
            dataMoverConcurrency: "4",
            dataMoverNodeConcurrency: '["a=1:4"]',
        };
        // With file-system backup on (the default local and nfs), the node agent runs and the keys limit its loads.
        assert.deepEqual(parseConfigWithWarnings(withKeys(nodeKeys), "prod").warnings, []);
        const { warnings } = parseConfigWithWarnings(
            withKeys({ ...nodeKeys, fileSystemBackupVolumeTypes: "[]" }),
            "prod",
        );
        assert.deepEqual(
            warnings.map((w) => [w.key, w.message]),
            [
                [
                    "gitops-dr:dataMoverConcurrency",
                    '"4" is ignored: there is no node agent with volumeDataMode nativeSnapshots and no file-system backup. Remove it with `pulumi config rm gitops-dr:dataMoverConcurrency`.',
                ],
                [
                    "gitops-dr:dataMoverNodeConcurrency",
                    "is ignored: there is no node agent with volumeDataMode nativeSnapshots and no file-system backup. Remove it with `pulumi config rm gitops-dr:dataMoverNodeConcurrency`.",
                ],
            ],
        );
    });

    for (const key of ["backupParallelFiles", "restoreParallelFiles"]) {
        it(`${key} must be between 1 and 64`, () => {
            assert.equal(
                onlyProblem(withKeys({ [key]: "65" }), key),
                `65 is out of range; it must be between 1 and 64. Fix: \`pulumi config set gitops-dr:${key} 8\`.`,
            );
        });
    }
});
