/** Parses, validates and hashes a JSON order document (see offload-task.mjs). */
export default function validateAndHash(json: string): { items: number; errors: number; hash: string }
