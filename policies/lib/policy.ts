/**
 * The two shapes of policy the pack uses, on top of `@pulumi/policy`'s: stack policies get the stack as a
 * {@link StackView} with the locations and mode most of them need, resource policies get their inputs as
 * JSON. Both keep the SDK's signatures, so the SDK's server runs them unchanged.
 */
import type { ReportViolation, ResourceValidationArgs, StackValidation, StackValidationArgs } from "@pulumi/policy";

import { Location, locations, restores, schedules } from "./velero";
import { at, str } from "./values";
import { Mode, StackView } from "./view";
import { Json } from "./values";

/** What a stack policy is handed. */
export interface StackContext {
    readonly view: StackView;
    readonly locations: readonly Location[];
    readonly mode: Mode;
    readonly args: StackValidationArgs;
}

/**
 * The stack's mode, from what it registers, never from its own `mode` output (a drill relabelled `protect` must
 * still be judged as a restorer). A restorer reads another cluster's backups: a read-only backup location, or a
 * Restore of a schedule that is not its own (by `scheduleName`, or a backup named `<schedule>-<timestamp>` as
 * Velero names scheduled backups), or a Restore in a stack that takes no backups at all. A protect stack restoring some namespaces from
 * its own schedule stays protect. A restorer is a recovery when it also writes backups (a writable location and a
 * Schedule), else a drill: a drill with a schedule, or a writable location, is still judged as a drill.
 */
export function stackMode(view: StackView, found: readonly Location[]): Mode {
    const own = schedules(view).map((s) => s.name);
    const foreign = restores(view).some((r) => {
        const schedule = str(at(r.props, "spec", "scheduleName"));
        const backup = str(at(r.props, "spec", "backupName")) ?? "";
        return schedule !== undefined && schedule !== ""
            ? !own.includes(schedule)
            : !own.some((s) => backup.startsWith(`${s}-`));
    });
    const restorer =
        found.some((l) => l.accessMode === "ReadOnly") || foreign || (restores(view).length > 0 && own.length === 0);
    if (!restorer) {
        return "protect";
    }
    return own.length > 0 && found.some((l) => l.accessMode !== "ReadOnly") ? "recover" : "drill";
}

/** A stack validation over a {@link StackContext}. */
export function onStack(
    check: (stack: StackContext, report: ReportViolation) => Promise<void> | void,
): StackValidation {
    return (args, report) => {
        const view = StackView.fromPolicyResources(args.resources);
        const found = locations(view);
        return check({ view, locations: found, mode: stackMode(view, found), args }, report);
    };
}

/** A stack validation that only applies in some modes. */
export function inModes(
    modes: readonly Mode[],
    check: (stack: StackContext, report: ReportViolation) => Promise<void> | void,
): StackValidation {
    return onStack((stack, report) => {
        if (!modes.includes(stack.mode)) {
            stack.args.notApplicable(`applies to ${modes.join(" and ")} stacks; this one is ${stack.mode}`);
        }
        return check(stack, report);
    });
}

/** The inputs of the resource under validation, as JSON. */
export function propsOf(args: ResourceValidationArgs): Json {
    const props: Json = args.props;
    return props;
}
