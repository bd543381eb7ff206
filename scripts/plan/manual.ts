/**
 * The manual steps around `pulumi up`: choosing the cluster, making or selecting the stack, its secrets, running
 * `pulumi up`, and checking the outcome. Their number depends on nothing but the mode.
 */
import type { StackValue } from "../../engine";
import { ProgramRun } from "../../engine";
import { STACKS, StackSpec, stackFileValues } from "../../engine";
import { Check, MANUAL_BEFORE, ManualStep, Mode } from "./model";
import { configKey, configValue, specOf, str } from "./registrations";

/** A value as `pulumi config set` takes it on a command line. */
function shellArg(value: string): string {
    return /^[A-Za-z0-9_./:@=,+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The `pulumi config` commands that turn a copied stack's config into the target file's. */
export function configChanges(from: ReadonlyMap<string, StackValue>, to: ReadonlyMap<string, StackValue>): string[] {
    const commands: string[] = [];
    for (const [key, value] of to) {
        if (JSON.stringify(from.get(key)) === JSON.stringify(value)) {
            continue;
        }
        if (Array.isArray(value)) {
            commands.push(
                ...(from.has(key) ? [`pulumi config rm ${key}`] : []),
                ...value.map((v, i) => `pulumi config set --path '${key}[${i}]' ${shellArg(String(v))}`),
            );
        } else if (value !== null && typeof value === "object") {
            // A secure value comes along with --copy-config-from; it is never retyped.
            continue;
        } else {
            commands.push(`pulumi config set ${key} ${shellArg(String(value))}`);
        }
    }
    for (const key of from.keys()) {
        if (!to.has(key)) {
            commands.push(`pulumi config rm ${key}`);
        }
    }
    return commands;
}

/** What the operator types to set a secret, by key; others get a placeholder. */
function secretCommand(key: string, mode: Mode, sourceStack: string | undefined): Check {
    if (key === "repoPassword") {
        return mode === "protect"
            ? {
                  command: `pulumi config set --secret ${configKey(key)} "$(openssl rand -base64 32)"`,
                  expect: 'nothing; then `pulumi config get gitops-dr:repoPassword` and keep the password outside the cluster and outside AWS (README, "Protect a cluster")',
              }
            : {
                  command: `pulumi config set --secret ${configKey(key)} "<the password of ${sourceStack ?? "the source stack"}>"`,
                  expect: "nothing: a restore cannot read the volume data without the source's password",
              };
    }
    return { command: `pulumi config set --secret ${configKey(key)} "<${key}>"`, expect: "nothing" };
}

/** The manual steps around `pulumi up` for a stack. Their number depends on nothing but the mode. */
export function manualSteps(run: ProgramRun, spec: StackSpec, mode: Mode): ManualStep[] {
    const context = configValue(run, "kubeContext");
    const clusterName = configValue(run, "clusterName") ?? "";
    const sourceStack = configValue(run, "sourceStack");
    const backsUp = mode !== "drill";
    // The CSI snapshot data mover needs a VolumeSnapshotClass Velero can pick to back up (DESIGN §2).
    const movesSnapshotData = run
        .ofType("kubernetes:velero.io/v1:Schedule")
        .some((s) => (specOf(s).template as { snapshotMoveData?: unknown } | undefined)?.snapshotMoveData === true);
    const useContext: Check =
        context === undefined
            ? {
                  command: "kubectl config current-context",
                  expect: `the context of ${clusterName} (gitops-dr:kubeContext is empty: the current context is used)`,
              }
            : { command: `kubectl config use-context ${context}`, expect: `\`Switched to context "${context}".\`` };
    const cluster: ManualStep = {
        number: "1",
        title:
            mode === "protect"
                ? `Choose the cluster ${clusterName} and its kube context`
                : `Create the new cluster ${clusterName} and choose its kube context`,
        why:
            mode === "protect"
                ? "Pulumi reaches the cluster through the kubeconfig context and AWS through your credentials."
                : mode === "recover"
                  ? "The lost cluster is gone: build a new one (same Kubernetes minor, a CSI driver) before anything restores into it."
                  : "A drill restores into a throwaway cluster, never into prod.",
        checks: [
            useContext,
            { command: "kubectl get nodes", expect: "every node `Ready`" },
            ...(movesSnapshotData
                ? [
                      {
                          command: "kubectl get volumesnapshotclass",
                          expect: "a class for the cluster's CSI driver that Velero resolves: labelled velero.io/csi-volumesnapshot-class, the driver's default, or its only class (docs/design.md, \"Volume data\")",
                      },
                  ]
                : []),
            { command: "aws sts get-caller-identity", expect: "the AWS account of the vault" },
        ],
        runsPlan: false,
    };

    const copyFrom =
        spec.copyConfigFrom === undefined
            ? undefined
            : (STACKS as Readonly<Record<string, StackSpec>>)[spec.copyConfigFrom];
    const stackChecks: Check[] =
        copyFrom !== undefined
            ? [
                  {
                      command: `pulumi stack init ${spec.name} --copy-config-from ${copyFrom.name}`,
                      expect: `\`Created stack '${spec.name}'\`; its config and secrets are ${copyFrom.name}'s`,
                  },
                  ...configChanges(stackFileValues(copyFrom), stackFileValues(spec))
                      // The restore id is set below, new for every attempt.
                      .filter((command) => !command.includes(` ${configKey("restoreId")} `))
                      .map((command) => ({ command, expect: `nothing (makes the config ${spec.file}'s)` })),
              ]
            : [
                  {
                      command: `pulumi stack init ${spec.name}`,
                      expect: `\`Created stack '${spec.name}'\`; ${spec.file} holds its config (or \`pulumi stack select ${spec.name}\` when it exists)`,
                  },
              ];
    if (mode !== "protect") {
        stackChecks.push({
            command: `pulumi config set ${configKey("restoreId")} "$(date +%Y-%m-%d)"`,
            expect: "nothing: every attempt needs a new id, which names its Restore (a Restore never runs twice)",
        });
    }
    const stack: ManualStep = {
        number: "2",
        title:
            copyFrom !== undefined
                ? `Make the stack ${spec.name} from ${copyFrom.name}'s config`
                : `Select the stack ${spec.name}`,
        why:
            copyFrom !== undefined
                ? `${spec.file} shows the result; copying keeps ${copyFrom.name}'s secrets and settings.`
                : "Every command below acts on the selected stack.",
        checks: [
            ...stackChecks,
            {
                command: "pulumi config",
                expect: `\`${configKey("mode")}\` \`${mode}\`, \`${configKey("clusterName")}\` \`${clusterName}\``,
            },
        ],
        runsPlan: false,
    };

    const secretKeys = Object.keys(spec.secrets);
    const secrets: ManualStep = {
        number: "3",
        title: copyFrom !== undefined ? "Check the secrets that came with the copy" : "Set the secrets",
        why: "Secrets never sit in the stack file in clear; Pulumi encrypts them in the stack's config.",
        checks: [
            ...(copyFrom !== undefined
                ? secretKeys.map((key) => ({
                      command: `pulumi config get ${configKey(key)}`,
                      expect: `${copyFrom.name}'s value`,
                  }))
                : secretKeys.map((key) => secretCommand(key, mode, sourceStack))),
            {
                command: "pulumi config",
                expect: secretKeys.map((key) => `\`${configKey(key)}\` \`[secret]\``).join(", "),
            },
        ],
        runsPlan: false,
    };

    const up: ManualStep = {
        number: String(MANUAL_BEFORE + 1),
        title: "Run `pulumi up`",
        why: "It performs the steps below in this order, each waiting for the ones before; a failed step stops everything after it.",
        checks: [
            {
                command: "pulumi preview",
                expect: `the resources to create: the offline engine recorded ${run.resources.length} registrations (stack, components, providers and resources)`,
            },
            { command: "pulumi up", expect: "the steps below, then the stack outputs" },
        ],
        runsPlan: true,
    };

    const daily = str(run.outputs.dailyScheduleName);
    const namespace = str(run.outputs.veleroNamespace) ?? "velero";
    const restore = run.outputs.restore as { restoreName?: string } | undefined;
    const after: Check[] = [{ command: "pulumi stack output mode", expect: `\`${mode}\`` }];
    if (restore?.restoreName !== undefined) {
        after.push(
            {
                command: "pulumi stack output restore --json",
                expect: `\`"restoreName": "${restore.restoreName}"\`, \`"phase": "Completed"\`, \`"errors": 0\`, and the backup it restored`,
            },
            {
                command: "pulumi stack output restoredBackupStartTimestamp",
                expect: "when the restored backup started: the data's age at the restore",
            },
        );
    }
    if (run.outputs.drillReport !== undefined) {
        after.push({
            command: "pulumi stack output drillReport --json",
            expect: "`dataAgeAtRestore` (the RPO this drill shows), `timeToRestore` and `timeToVerified` (the RTO), and `checksPassed`: every step of the verification Job",
        });
    }
    if (backsUp && daily !== undefined) {
        after.push({
            command: `velero backup get -n ${namespace} -l velero.io/schedule-name=${daily}`,
            expect: `after the schedule's next tick, a backup \`${daily}-<timestamp>\` with STATUS \`Completed\``,
        });
    }
    if (mode === "drill") {
        after.push({
            command: "pulumi destroy",
            expect: "the drill's Restore deleted first (Velero removes its logs under restores/), then Velero, Argo CD and the drill's IAM; prod's backups and bucket stay untouched (docs/design.md, \"The restore order\")",
        });
    }
    const checks: ManualStep = {
        number: String(MANUAL_BEFORE + 2),
        title: mode === "drill" ? "Read the drill's result, then tear it down" : "Check the outcome",
        why:
            mode === "protect"
                ? "The stack is protected once the first scheduled backup completed."
                : "The restore's report says what came back and how old it is.",
        checks: after,
        runsPlan: false,
    };
    return [cluster, stack, secrets, up, checks];
}
