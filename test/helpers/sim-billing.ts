// The simulator's own billing, the ground truth spend figures are held against: its per-instance
// charges when it keeps them (sim.instances.charges), else what the account's balance went down by
// (valid only for a simulated cloud that has rented one instance).
import type {SimCloud} from '../../source/sim/cloud.js';

const START_BALANCE = 25;

interface Charges {
  gpu: number;
  storage: number;
  bandwidth: number;
  provisionedGb: number;
}

/** $ the simulator billed for one instance so far (billed up to now). */
export function simBilled(sim: SimCloud, instanceId: number): number {
  const keeper = sim.instances as unknown as {charges?: (id: number) => Charges | undefined};
  if (typeof keeper.charges === 'function') {
    const charges = keeper.charges.call(sim.instances, instanceId);
    if (!charges) throw new Error(`the simulator has no charges for instance ${instanceId}`);
    return charges.gpu + charges.storage + charges.bandwidth;
  }
  sim.instances.accrue();
  return START_BALANCE - sim.account.balance;
}

/**
 * $ the simulator billed for one instance, less its provisioning downloads: what its API record
 * alone can tell (the instance's logs are the only place those downloads show).
 */
export function simBilledApiVisible(sim: SimCloud, instanceId: number, inetDownCostPerGb: number): number {
  const charges = (sim.instances as unknown as {charges: (id: number) => Charges | undefined}).charges(instanceId);
  if (!charges) throw new Error(`the simulator has no charges for instance ${instanceId}`);
  return charges.gpu + charges.storage + charges.bandwidth - charges.provisionedGb * inetDownCostPerGb;
}

/** Everything the simulated account was billed. */
export function simBilledTotal(sim: SimCloud): number {
  sim.instances.accrue();
  return START_BALANCE - sim.account.balance;
}
