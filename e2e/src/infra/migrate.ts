import { migrate } from '@switchforge/platform/db';

export async function migrateDatabase(url: string): Promise<string[]> {
  return migrate({ url });
}
