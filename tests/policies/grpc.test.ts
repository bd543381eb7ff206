import * as assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as proto from "@pulumi/pulumi/proto/analyzer_pb";
import * as rpc from "@pulumi/pulumi/runtime/rpc";

import { AnalyzedResource, PackConfig, evaluatePack } from "../../policies/gate/evaluate";
import { analyzedResources } from "../../policies/gate/recording";
import { PACK_ARGS, PACK_NAME, POLICIES } from "../../policies/policies";
import { N, compliantStack } from "../../policies/testing/stack";
import { VARIANTS, cloneRun } from "../../policies/testing/variants";
import { GATED_STACKS } from "../../scripts/policy";
import { ProgramRun, runProgram } from "../../engine";
import { refreshOutputs } from "../../engine/providers";

const PACK_DIR = path.resolve(__dirname, "../../policies");

/** One verdict, comparable between the analyzer server and the direct calls. */
type Verdict = string;
const verdict = (policyName: string, level: string, urn: string | undefined, message: string): Verdict =>
    `${level} ${policyName} ${urn ?? "(stack)"}: ${message}`;

/**
 * Starts the pack as the Pulumi CLI does for a Node.js policy pack: `node <@pulumi/pulumi/cmd/run-policy-pack>
 * <engine address> <pack directory>` with the pack directory as working directory (pulumi-language-nodejs
 * `RunPlugin` for kind analyzer); it type-checks the pack with ts-node, serves the analyzer and prints its port.
 */
function startPack(): Promise<{ child: ChildProcess; port: number }> {
    const runPolicyPack = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [PACK_DIR] });
    const child = spawn(process.execPath, [runPolicyPack, "127.0.0.1:1", PACK_DIR], {
        cwd: PACK_DIR,
        stdio: ["ignore", "pipe", "pipe"],
    });
    return new Promise((resolve, reject) => {
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.stdout.once("data", (d: Buffer) => resolve({ child, port: Number(d.toString().trim()) }));
        child.once("exit", (code) =>
            reject(new Error(`the policy pack exited with ${String(code)} before serving: ${stderr}`)),
        );
    });
}

/** A unary call as a promise. */
function call<Res>(invoke: (callback: (err: grpc.ServiceError | null, res: Res) => void) => unknown): Promise<Res> {
    return new Promise((resolve, reject) => invoke((err, res) => (err === null ? resolve(res) : reject(err))));
}

/** Wraps the values at the engine's secret paths the way the engine sends secrets to an analyzer. */
function withSecrets(props: Readonly<Record<string, unknown>>, paths: readonly string[]): Record<string, unknown> {
    const copy = structuredClone(props) as Record<string, unknown>;
    const wrap = (node: unknown, rest: string): unknown => {
        if (rest === "") {
            return { [rpc.specialSigKey]: rpc.specialSecretSig, value: node };
        }
        const index = /^\[(\d+)\]\.?/.exec(rest);
        if (Array.isArray(node) && index !== null) {
            node[Number(index[1])] = wrap(node[Number(index[1])], rest.substring(index[0].length));
            return node;
        }
        const object = node as Record<string, unknown>;
        // Keys may contain dots: take the longest key the path starts with.
        const key = Object.keys(object)
            .filter((k) => rest === k || rest.startsWith(`${k}.`) || rest.startsWith(`${k}[`))
            .sort((a, b) => b.length - a.length)[0];
        assert.ok(key !== undefined, `no key for secret path ${rest}`);
        object[key] = wrap(object[key], rest.substring(key.length).replace(/^\./, ""));
        return object;
    };
    for (const p of paths) {
        wrap(copy, p);
    }
    return copy;
}

function options(r: AnalyzedResource): proto.AnalyzerResourceOptions {
    const timeouts = new proto.AnalyzerResourceOptions.CustomTimeouts();
    timeouts.setCreate(r.opts.customTimeouts.createSeconds);
    timeouts.setUpdate(r.opts.customTimeouts.updateSeconds);
    timeouts.setDelete(r.opts.customTimeouts.deleteSeconds);
    const o = new proto.AnalyzerResourceOptions();
    o.setProtect(r.opts.protect);
    o.setIgnorechangesList([...r.opts.ignoreChanges]);
    o.setDeletebeforereplace(r.opts.deleteBeforeReplace ?? false);
    o.setDeletebeforereplacedefined(r.opts.deleteBeforeReplace !== undefined);
    o.setAdditionalsecretoutputsList([...r.opts.additionalSecretOutputs]);
    o.setAliasesList([...r.opts.aliases]);
    o.setCustomtimeouts(timeouts);
    o.setParent(r.parent ?? "");
    // retainOnDelete has no field here: the engine cannot tell an analyzer about it.
    return o;
}

function provider(r: AnalyzedResource): proto.AnalyzerProviderResource | undefined {
    if (r.provider === undefined) {
        return undefined;
    }
    const p = new proto.AnalyzerProviderResource();
    p.setType(r.provider.type);
    p.setName(r.provider.name);
    p.setUrn(r.provider.urn);
    p.setProperties(Struct.fromJavaScript(r.provider.props as Record<string, never>));
    return p;
}

const LEVELS: Record<number, string> = {
    [proto.EnforcementLevel.ADVISORY]: "advisory",
    [proto.EnforcementLevel.MANDATORY]: "mandatory",
};
const DESCRIPTIONS = new Map(POLICIES.map((p) => [p.name, p.description]));

function verdicts(response: proto.AnalyzeResponse, defaultUrn?: string): Verdict[] {
    return response.getDiagnosticsList().map((d) => {
        const prefix = `${DESCRIPTIONS.get(d.getPolicyname())}\n`;
        assert.ok(d.getMessage().startsWith(prefix), d.getMessage());
        assert.equal(d.getPolicypackname(), PACK_NAME);
        return verdict(
            d.getPolicyname(),
            LEVELS[d.getEnforcementlevel()],
            d.getUrn() === "" ? defaultUrn : d.getUrn(),
            d.getMessage().substring(prefix.length),
        );
    });
}

/** Every verdict of the served pack: Analyze per resource (inputs), then AnalyzeStack. */
async function servedVerdicts(
    client: AnalyzerClient,
    resources: readonly AnalyzedResource[],
): Promise<{ verdicts: Verdict[]; notApplicable: string[] }> {
    const found: Verdict[] = [];
    const stackResources: proto.AnalyzerResource[] = [];
    for (const r of resources) {
        const properties = Struct.fromJavaScript(withSecrets(r.props, r.secretPaths ?? []) as Record<string, never>);
        const request = new proto.AnalyzeRequest();
        request.setType(r.type);
        request.setName(r.name);
        request.setUrn(r.urn);
        request.setProperties(properties);
        request.setOptions(options(r));
        request.setProvider(provider(r));
        found.push(...verdicts(await call<proto.AnalyzeResponse>((cb) => client.analyze(request, cb)), r.urn));

        const resource = new proto.AnalyzerResource();
        resource.setType(r.type);
        resource.setName(r.name);
        resource.setUrn(r.urn);
        // AnalyzeStack gets the final outputs (pulumi step_generator.go `AnalyzeResources`), Analyze the inputs.
        resource.setProperties(
            Struct.fromJavaScript(
                withSecrets(
                    r.outputs ?? r.props,
                    (r.outputs === undefined ? r.secretPaths : r.outputSecretPaths) ?? [],
                ) as Record<string, never>,
            ),
        );
        resource.setOptions(options(r));
        resource.setProvider(provider(r));
        resource.setParent(r.parent ?? "");
        resource.setDependenciesList([...r.dependencies]);
        for (const [key, urns] of Object.entries(r.propertyDependencies)) {
            const deps = new proto.AnalyzerPropertyDependencies();
            deps.setUrnsList([...urns]);
            resource.getPropertydependenciesMap().set(key, deps);
        }
        stackResources.push(resource);
    }
    const stackRequest = new proto.AnalyzeStackRequest();
    stackRequest.setResourcesList(stackResources);
    const stackResponse = await call<proto.AnalyzeResponse>((cb) => client.analyzeStack(stackRequest, cb));
    found.push(...verdicts(stackResponse));
    return {
        verdicts: found.sort(),
        notApplicable: stackResponse
            .getNotApplicableList()
            .map((n) => `${n.getPolicyName()}: ${n.getReason()}`)
            .sort(),
    };
}

/** The same resources through the gate's direct calls. */
async function directVerdicts(
    resources: readonly AnalyzedResource[],
    config: PackConfig = {},
): Promise<{ verdicts: Verdict[]; notApplicable: string[] }> {
    const evaluation = await evaluatePack(resources, POLICIES, config);
    return {
        verdicts: evaluation.violations.map((v) => verdict(v.policyName, v.enforcementLevel, v.urn, v.message)).sort(),
        notApplicable: evaluation.notApplicable.map((n) => `${n.policyName}: ${n.reason}`).sort(),
    };
}

async function configure(client: AnalyzerClient, config: Record<string, Record<string, unknown>>): Promise<void> {
    const request = new proto.ConfigureAnalyzerRequest();
    for (const [name, properties] of Object.entries(config)) {
        const policyConfig = new proto.PolicyConfig();
        policyConfig.setEnforcementlevel(proto.EnforcementLevel.MANDATORY);
        policyConfig.setProperties(Struct.fromJavaScript(properties as Record<string, never>));
        request.getPolicyconfigMap().set(name, policyConfig);
    }
    await call<Empty>((cb) => client.configure(request, cb));
}

describe("the pack served over gRPC, as pulumi preview --policy-pack runs it", function () {
    // Starting the pack type-checks it with ts-node, as the CLI does: several seconds.
    this.timeout(120_000);
    let child: ChildProcess | undefined;
    let client: AnalyzerClient;
    const runs = new Map<string, ProgramRun>();
    /** A fresh copy of a shipped stack's recording (each is run once). */
    const recorded = async (stack: keyof typeof GATED_STACKS) => {
        if (!runs.has(stack)) {
            runs.set(stack, await runProgram(GATED_STACKS[stack]));
        }
        return cloneRun(runs.get(stack)!);
    };

    before(async () => {
        const started = await startPack();
        child = started.child;
        client = new AnalyzerClient(`127.0.0.1:${started.port}`, grpc.credentials.createInsecure());
    });

    after(() => {
        client?.close();
        child?.kill();
    });

    it("describes the pack: its name, version, policies, levels and config schemas", async () => {
        const info = await call<proto.AnalyzerInfo>((cb) => client.getAnalyzerInfo(new Empty(), cb));
        assert.equal(info.getName(), PACK_NAME);
        assert.equal(
            info.getVersion(),
            (JSON.parse(fs.readFileSync(path.join(PACK_DIR, "package.json"), "utf8")) as { version: string }).version,
        );
        assert.equal(info.getDescription(), PACK_ARGS.description);
        assert.deepEqual(
            info
                .getPoliciesList()
                .map((p) => [
                    p.getName(),
                    LEVELS[p.getEnforcementlevel()],
                    p.getConfigschema()?.getProperties()?.toJavaScript() ?? {},
                ]),
            POLICIES.map((p) => [p.name, p.enforcementLevel, p.configSchema?.properties ?? {}]),
        );
    });

    it("returns the direct calls' verdicts for the shipped stacks and their broken variants", async () => {
        const cases: { name: string; resources: AnalyzedResource[] }[] = [];
        for (const stack of Object.keys(GATED_STACKS)) {
            cases.push({ name: stack, resources: analyzedResources(await recorded(stack)) });
        }
        // One variant per policy it breaks, so that each policy's violation crosses the wire once.
        const seen = new Set<string>();
        for (const variant of VARIANTS) {
            const run = await recorded(variant.stack);
            if (
                !(variant.needs ?? []).every((type) => run.resources.some((r) => r.type === type)) ||
                variant.config !== undefined ||
                variant.name.includes("retained on delete")
            ) {
                continue;
            }
            const policy = (typeof variant.expect === "function" ? variant.expect(run) : variant.expect)[0].policyName;
            if (seen.has(policy)) {
                continue;
            }
            seen.add(policy);
            variant.fault!(run);
            refreshOutputs(run, runs.get(variant.stack)!);
            cases.push({ name: variant.name, resources: analyzedResources(run) });
        }
        assert.ok(cases.length >= 15, `${cases.length} cases`);
        for (const c of cases) {
            const served = await servedVerdicts(client, c.resources);
            const direct = await directVerdicts(c.resources);
            assert.deepEqual(served, direct, c.name);
        }
    });

    it("returns the direct calls' verdicts for the restore order (contract stacks)", async () => {
        const drill = compliantStack("drill");
        for (const stack of [
            compliantStack("recover"),
            drill,
            drill.with(N.rootApp, (r) => (r.propertyDependencies = {})),
            drill.with(N.restore, (r) => (r.dependencies = [])),
            compliantStack("recover").with(N.schedule, (r) => (r.propertyDependencies = {})),
        ]) {
            const resources = stack.analyzed();
            assert.deepEqual(await servedVerdicts(client, resources), await directVerdicts(resources));
        }
    });

    it("cannot see retainOnDelete, which the analyzer protocol does not carry; the offline gate can", async () => {
        const variant = VARIANTS.find((v) => v.name.includes("retained on delete"))!;
        const run = await recorded(variant.stack);
        variant.fault!(run);
        const resources = analyzedResources(run);
        const served = await servedVerdicts(client, resources);
        const direct = await directVerdicts(resources);
        const gateOnly = direct.verdicts.filter((v) => !served.verdicts.includes(v));
        assert.deepEqual(
            gateOnly.map((v) => v.substring(0, v.indexOf(": "))),
            [`mandatory vault-resources-protected ${resources.find((r) => r.name.endsWith("-vault-lock"))!.urn}`],
        );
    });

    it("applies policy configuration sent through Configure as the gate applies the same file", async () => {
        const config = { "vault-bucket-object-lock": { minLockDays: 400 } };
        await configure(client, config);
        try {
            const resources = analyzedResources(await recorded("prod"));
            const served = await servedVerdicts(client, resources);
            assert.deepEqual(
                served,
                await directVerdicts(resources, {
                    "vault-bucket-object-lock": {
                        enforcementLevel: "mandatory",
                        ...config["vault-bucket-object-lock"],
                    },
                }),
            );
            assert.ok(served.verdicts.some((v) => v.includes("at least 400 days")));
        } finally {
            await configure(client, {});
        }
    });
});
