/**
 * The two shapes of policy the pack uses, on top of `@pulumi/policy`'s: stack policies get the stack as a
 * {@link StackView} with the locations and mode most of them need, resource policies get their inputs as
 * JSON. Both keep the SDK's signatures, so the SDK's server runs them unchanged.
 */
import type { ReportViolation, ResourceValidationArgs, StackValidation, StackValidationArgs } from "@pulumi/policy";

import { Location, locations } from "./velero";
import { Mode, StackView } from "./view";
import { Json } from "./values";

/** What a stack policy is handed. */
export interface StackContext {
    readonly view: StackView;
    readonly locations: readonly Location[];
    readonly mode: Mode;
    readonly args: StackValidationArgs;
}

/** A stack validation over a {@link StackContext}. */
export function onStack(
    check: (stack: StackContext, report: ReportViolation) => Promise<void> | void,
): StackValidation {
    return (args, report) => {
        const view = StackView.fromPolicyResources(args.resources);
        const found = locations(view);
        return check({ view, locations: found, mode: view.mode(found), args }, report);
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
