// Viewing analytics: beacon events, batches, dashboard query shapes. Filled in by issue 7.
export {};
