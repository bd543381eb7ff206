/**
 * The stacks the scripts know (`npm run plan`, `npm run bench`): the two shipped stack files and the recover
 * example, each with the secrets a real stack would hold and the outputs of the stacks it references, so that
 * the offline engine can run it with no cloud, no credentials and no cluster.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { StackValue, readStackFile } from "./cli-config";
import type { ConfigInput, RunOptions } from "./program";

const ROOT = path.resolve(__dirname, "..");
const PROJECT = "gitops-dr";

/**
 * Where stack files are read from: the repository root, or a copy of its layout (the tests' fixture stacks; a
 * script a test starts gets it as GITOPS_DR_STACK_FILES).
 */
let stackFileRoot = process.env.GITOPS_DR_STACK_FILES ?? ROOT;

/**
 * Reads every stack file (`Pulumi.<stack>.yaml`, `examples/...`) from `dir` instead of the repository root: the
 * tests use their own copies, so a user who edits the shipped stack files, as the README tells them to, keeps a
 * green `npm test`. Returns the previous root.
 */
export function readStackFilesFrom(dir: string): string {
    const previous = stackFileRoot;
    stackFileRoot = dir;
    process.env.GITOPS_DR_STACK_FILES = dir;
    return previous;
}

/** The path of a stack file given relative to the repository root (`Pulumi.prod.yaml`, `examples/...`), or absolute. */
export function stackFilePath(relative: string): string {
    return path.resolve(stackFileRoot, relative);
}

/** Secrets the README tells the operator to set on every stack; here placeholder values. */
export const STACK_SECRETS = { repoPassword: "test-repo-password-0123456789" } as const;

/** What `pulumi stack output` of the prod stack gives a recover or drill stack through sourceStack (placeholders). */
export const PROD_OUTPUTS = {
    bucketName: "acme-gitops-dr-vault",
    region: "eu-west-1",
    kmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/prod-vault-key",
    prefix: "prod-eu-1",
    clusterName: "prod-eu-1",
    dailyScheduleName: "prod-eu-1-daily",
    credentialsScheduleName: "prod-eu-1-credentials",
    // Its off-site replica (Pulumi.prod.yaml sets replicaRegion), read by a stack with gitops-dr:sourceReplica.
    replicaBucketName: "acme-gitops-dr-vault-replica",
    replicaRegion: "eu-central-1",
    replicaKmsKeyArn: "arn:aws:kms:eu-central-1:111122223333:key/prod-replica-key",
} as const;

/** The source stacks the shipped stack files reference, with {@link PROD_OUTPUTS}. */
export const STACK_REFERENCES = { "acme/gitops-dr/prod": PROD_OUTPUTS } as const;

/** One stack as the scripts run it. */
export interface StackSpec {
    /** Stack name, as `pulumi stack init` names it. */
    readonly name: string;
    /** Its stack file, relative to the repository root. */
    readonly file: string;
    /** Secrets the operator sets on it (`pulumi config set --secret`); here the test values. */
    readonly secrets: Readonly<Record<string, string>>;
    /** Outputs of the stacks it reads through `gitops-dr:sourceStack`, by fully qualified name. */
    readonly stackReferences: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
    /** The stack it is made from with `pulumi stack init --copy-config-from`, when it has no file of its own. */
    readonly copyConfigFrom?: string;
}

export const STACKS = {
    prod: { name: "prod", file: "Pulumi.prod.yaml", secrets: STACK_SECRETS, stackReferences: {} },
    drill: { name: "drill", file: "Pulumi.drill.yaml", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES },
    // Made from prod's config with `--copy-config-from prod` (the file's header says how); repoPassword comes along.
    recover: {
        name: "recover",
        file: "examples/Pulumi.recover.yaml",
        secrets: STACK_SECRETS,
        stackReferences: STACK_REFERENCES,
        copyConfigFrom: "prod",
    },
} as const satisfies Readonly<Record<string, StackSpec>>;

export type StackName = keyof typeof STACKS;

export const STACK_NAMES = Object.keys(STACKS) as StackName[];

export function isStackName(name: string): name is StackName {
    return Object.prototype.hasOwnProperty.call(STACKS, name);
}

/**
 * The engine's options for a stack: its file's values (read here, so that a file outside the root works too),
 * then `config` overrides on top, its secrets and its stack references.
 */
export function stackRunOptions(spec: StackSpec, config: Readonly<Record<string, ConfigInput>> = {}): RunOptions {
    return {
        stack: spec.name,
        stackValues: stackFileValues(spec),
        config,
        secrets: spec.secrets,
        stackReferences: spec.stackReferences,
    };
}

/** The values of a stack's file, as the CLI reads them. */
export function stackFileValues(spec: StackSpec): Map<string, StackValue> {
    return readStackFile(fs.readFileSync(stackFilePath(spec.file), "utf8"), PROJECT);
}

/** `count` valid, distinct namespace names (`<prefix>-000`, ...). */
export function namespaceNames(prefix: string, count: number): string[] {
    const width = String(Math.max(count - 1, 0)).length;
    return Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(width, "0")}`);
}

/** How big a scaled stack is. */
export interface Scale {
    /** Namespaces excluded from backups (`gitops-dr:excludedNamespaces`). */
    readonly excludedNamespaces: number;
    /** Namespaces restored (`gitops-dr:restoreNamespaces`); only recover and drill read it. */
    readonly restoreNamespaces: number;
    /** Per-app checks of a drill (`gitops-dr:drillChecks`); only a drill reads it. */
    readonly drillChecks: number;
}

/** The scale the benchmark and the plan test use: a cluster with hundreds of namespaces. */
export const LARGE_SCALE: Scale = { excludedNamespaces: 500, restoreNamespaces: 300, drillChecks: 40 };

/**
 * Config overrides that make a stack large without changing what it deploys: many excluded and restored
 * namespaces. A protect stack's `restoreNamespaces` would mean a namespace restore, so it only gets the former; a drill also gets dozens of per-app checks.
 */
export function scaledConfig(spec: StackSpec, scale: Scale): Record<string, ConfigInput> {
    const mode = stackFileValues(spec).get(`${PROJECT}:mode`);
    const restores = mode === "recover" || mode === "drill";
    const apps = namespaceNames("app", scale.restoreNamespaces);
    return {
        excludedNamespaces: namespaceNames("excluded", scale.excludedNamespaces),
        ...(restores ? { restoreNamespaces: apps } : {}),
        ...(mode === "drill"
            ? {
                  drillChecks: apps
                      .slice(0, scale.drillChecks)
                      .map((ns) => `${ns}/deploy/api wget -q -O /dev/null http://localhost:8080/healthz`),
              }
            : {}),
    };
}

/** A stack named on a tool's command line that is neither shipped nor a stack file, or a bad `--source-outputs`. */
export class StackArgumentError extends Error {}

/** Where a stack's source-stack outputs came from, for the tools to print. */
export interface ResolvedStack {
    readonly spec: StackSpec;
    /** One line on where the outputs of its `sourceStack` came from; undefined when it reads none. */
    readonly sourceNote?: string;
}

/** `gitops-dr:sourceStack` of a stack file, when it sets one. */
function sourceStackOf(spec: StackSpec): string | undefined {
    const value = stackFileValues(spec).get(`${PROJECT}:sourceStack`);
    return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * The outputs in a `--source-outputs` file: the JSON of `pulumi stack output --json --show-secrets` of the source
 * stack, or its `breakGlass` output on its own (the card kept offline, README "Where the state lives").
 */
export function readSourceOutputs(file: string): Record<string, unknown> {
    let parsed: unknown;
    try {
        parsed = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new StackArgumentError(
            `--source-outputs ${file}: ${e instanceof Error ? e.message : String(e)}; give the JSON of \`pulumi stack output --json --show-secrets\``,
        );
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new StackArgumentError(`--source-outputs ${file}: not a JSON object of stack outputs`);
    }
    const outputs = parsed as Record<string, unknown>;
    const card = outputs.breakGlass;
    // The card alone, or the whole output with the card in it: the stack's own outputs win over the card's.
    return card !== null && typeof card === "object" && !Array.isArray(card)
        ? { ...(card as Record<string, unknown>), ...outputs }
        : outputs;
}

/**
 * The stack a tool names (`npm run plan|render|policy -- <stack>`): a shipped name, the name of a
 * `Pulumi.<stack>.yaml` in the repository, or the path of a `Pulumi.<stack>.yaml` anywhere. A recover or drill
 * stack reads its `sourceStack`'s outputs from `sourceOutputs` (see {@link readSourceOutputs}); without it, from
 * the placeholders of the shipped stacks when it names acme's prod, else from an offline run of the source
 * stack's own file beside it (`Pulumi.<last part of sourceStack>.yaml`, run by `runSource`). Throws a
 * {@link StackArgumentError} saying what to pass when none of these gives them.
 */
export async function resolveStack(
    arg: string,
    options: {
        readonly sourceOutputs?: string;
        readonly runSource?: (spec: StackSpec) => Promise<Record<string, unknown>>;
    } = {},
): Promise<ResolvedStack> {
    let base: StackSpec;
    if (isStackName(arg)) {
        base = STACKS[arg];
    } else {
        const byName = /^[A-Za-z0-9_.-]+$/.test(arg) && !arg.endsWith(".yaml") ? `Pulumi.${arg}.yaml` : undefined;
        const file = path.resolve(byName !== undefined ? stackFilePath(byName) : arg);
        const name = /^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$/.exec(path.basename(file))?.[1];
        if (byName === undefined && name === undefined) {
            throw new StackArgumentError(`${arg}: a stack file is named Pulumi.<stack>.yaml`);
        }
        if (!fs.existsSync(file)) {
            throw new StackArgumentError(
                `unknown stack "${arg}": not one of ${STACK_NAMES.join(", ")} and no ${byName ?? file}`,
            );
        }
        base = { name: name ?? arg, file, secrets: STACK_SECRETS, stackReferences: {} };
    }
    const source = sourceStackOf(base);
    if (source === undefined) {
        return { spec: base };
    }
    if (options.sourceOutputs !== undefined) {
        return {
            spec: { ...base, stackReferences: { [source]: readSourceOutputs(options.sourceOutputs) } },
            sourceNote: `${source}'s outputs from ${options.sourceOutputs}`,
        };
    }
    // A shipped stack as shipped: its fixture outputs, as every test and the runbooks have them.
    if (base.stackReferences[source] !== undefined) {
        return { spec: base };
    }
    const shipped = (STACK_REFERENCES as Readonly<Record<string, Readonly<Record<string, unknown>>>>)[source];
    if (shipped !== undefined) {
        return {
            spec: { ...base, stackReferences: { [source]: shipped } },
            sourceNote: `${source}'s outputs are placeholders (engine/stacks.ts PROD_OUTPUTS); pass --source-outputs FILE for the real ones`,
        };
    }
    // Beside the stack file, else in the repository (a shipped drill whose sourceStack the user changed).
    const sourceFile = `Pulumi.${source.split("/").pop() ?? source}.yaml`;
    const sibling = [path.dirname(stackFilePath(base.file)), stackFileRoot]
        .map((dir) => path.join(dir, sourceFile))
        .find((f) => fs.existsSync(f));
    if (options.runSource !== undefined && sibling !== undefined) {
        const sourceSpec: StackSpec = {
            name: source.split("/").pop() ?? source,
            file: sibling,
            secrets: STACK_SECRETS,
            stackReferences: {},
        };
        return {
            spec: { ...base, stackReferences: { [source]: await options.runSource(sourceSpec) } },
            sourceNote: `${source}'s outputs from an offline run of ${sibling} (what only AWS knows, such as the KMS key ARN, is simulated); pass --source-outputs FILE for the real ones`,
        };
    }
    throw new StackArgumentError(
        `stack ${base.name} reads the outputs of ${source} (gitops-dr:sourceStack): pass --source-outputs FILE, ` +
            `the JSON of \`pulumi stack output --json --show-secrets --stack ${source}\` or its breakGlass card, ` +
            `or put that stack's Pulumi.${source.split("/").pop() ?? source}.yaml beside ${stackFilePath(base.file)}`,
    );
}
