// The simulator's own control endpoint, beside the Vast API and behind the same account key (never
// an instance's scoped key): arm, list and clear faults by name (fault-plan.ts), strike one
// instance now, switch an instance's API quirks, and read what each instance has cost. Used by
// `vastdeck sim fault …` and by anyone with curl. Registered by cloud.ts.
import {errorBody, type SimRequest, type SimResponse, type SimRouter} from './api-server.js';
import {FaultSpecError, parseFaultSpec, type FaultPlan} from './fault-plan.js';
import {INSTANCE_QUIRKS, type InstanceFault, type InstanceQuirk, type SimInstances} from './instances.js';

const INSTANCE_FAULTS: readonly InstanceFault[] = ['pull-error', 'oci-error', 'exited', 'offline', 'unknown', 'provisioning-failure', 'drop-ssh', 'refuse-ssh', 'death'];

export function addControlRoutes(router: SimRouter, plan: FaultPlan, instances: SimInstances): void {
  const armed = (): SimResponse => ok({faults: plan.list(), spec: plan.toSpec()});
  router.add('GET', '/sim/faults', request => accountOnly(request) ?? armed());
  router.add('POST', '/sim/faults', request => {
    const refused = accountOnly(request);
    if (refused) return refused;
    const spec = field(request.body, 'spec');
    if (typeof spec !== 'string') return invalid('Send {"spec": "api429=0.3,instance-death=1"}.');
    try {
      plan.add(parseFaultSpec(spec));
    } catch (error) {
      if (error instanceof FaultSpecError) return invalid(error.message);
      throw error;
    }
    return armed();
  });
  router.add('DELETE', '/sim/faults', request => {
    const refused = accountOnly(request);
    if (refused) return refused;
    plan.clear();
    return armed();
  });
  router.add('POST', '/sim/instances/:id/fault', request => {
    const refused = accountOnly(request);
    if (refused) return refused;
    const fault = field(request.body, 'fault');
    if (typeof fault !== 'string' || !(INSTANCE_FAULTS as readonly string[]).includes(fault)) return invalid(`Send {"fault": one of ${INSTANCE_FAULTS.join(', ')}}.`);
    return instances.inject(Number(request.params.id), fault as InstanceFault) ? ok({success: true}) : noInstance(request);
  });
  router.add('PUT', '/sim/instances/:id/quirks', request => {
    const refused = accountOnly(request);
    if (refused) return refused;
    const quirks = field(request.body, 'quirks');
    if (!Array.isArray(quirks) || !quirks.every(quirk => (INSTANCE_QUIRKS as readonly unknown[]).includes(quirk))) return invalid(`Send {"quirks": [any of ${INSTANCE_QUIRKS.join(', ')}]}.`);
    const id = Number(request.params.id);
    if (instances.get(id) === undefined) return noInstance(request);
    for (const quirk of INSTANCE_QUIRKS) instances.setQuirk(id, quirk, quirks.includes(quirk as InstanceQuirk));
    return ok({success: true, quirks});
  });
  router.add('GET', '/sim/billing', request => accountOnly(request) ?? ok({instances: Object.fromEntries(instances.billedIds().map(id => [id, instances.charges(id)]))}));
}

/** The control endpoint is the account's: an instance's scoped key is refused. */
function accountOnly(request: SimRequest): SimResponse | undefined {
  return request.caller.kind === 'account' ? undefined : {status: 403, json: errorBody('not_authorized', 'The simulator control endpoint needs the account API key the simulator printed.')};
}

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

function ok(json: unknown): SimResponse {
  return {status: 200, json};
}

function invalid(msg: string): SimResponse {
  return {status: 400, json: errorBody('invalid_args', msg)};
}

function noInstance(request: SimRequest): SimResponse {
  return {status: 404, json: errorBody('no_such_instance', `Instance ${request.params.id ?? ''} not found.`)};
}
