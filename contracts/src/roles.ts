import { z } from 'zod';

export const ROLES = ['student', 'family', 'teacher', 'analyst', 'admin'] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;
