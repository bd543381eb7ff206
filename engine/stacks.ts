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

/** The path of a stack file given relative to the repository root (`Pulumi.prod.yaml`, `examples/...`). */
export function stackFilePath(relative: string): string {
    return path.join(stackFileRoot, relative);
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
