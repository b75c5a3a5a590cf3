// Jobs this tab started, remembered per machine so a reload keeps showing their progress.

const KEY = 'nemordp.jobs';

export const JOB_LABELS = {
  provision: 'Setup',
  restart: 'Restart',
  stop: 'Stop',
  start: 'Start',
  terminate: 'Termination',
  change_plan: 'Plan change',
  reinstall: 'Reinstall',
  cancel_subscription: 'Cancellation',
  snapshot_create: 'Snapshot',
  snapshot_restore: 'Restore',
  snapshot_delete: 'Snapshot deletion',
};

export const JOB_WORK = {
  provision: 'Creating and booting the machine',
  restart: 'Restarting the machine',
  stop: 'Shutting the machine down',
  start: 'Starting the machine',
  terminate: 'Destroying the machine',
  change_plan: 'Invoicing the difference and resizing the machine',
  reinstall: 'Erasing the disk and installing the new system',
  cancel_subscription: 'Ending the subscription at the end of its period',
  snapshot_create: 'Taking the snapshot',
  snapshot_restore: 'Overwriting the disk with the snapshot and restarting',
  snapshot_delete: 'Deleting the snapshot',
};

export function isFinished(job) {
  return job.state === 'succeeded' || job.state === 'failed';
}

function load() {
  try {
    return JSON.parse(window.sessionStorage.getItem(KEY) || '{}');
  } catch {
    return {};
  }
}

function save(map) {
  try {
    window.sessionStorage.setItem(KEY, JSON.stringify(map));
  } catch {
    // Storage refused (private mode, quota): progress then lasts until a reload.
  }
}

export function trackJob(instanceId, jobId) {
  save({ ...load(), [instanceId]: jobId });
}

export function trackedJob(instanceId) {
  return load()[instanceId] || null;
}

export function forgetJob(instanceId) {
  const map = load();
  delete map[instanceId];
  save(map);
}
