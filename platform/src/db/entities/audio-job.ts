import { EntitySchema } from 'typeorm';

export type AudioJobPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Cancelled';

/** Where a job stands, as recorded by the workflow's activities (Temporal holds the truth). */
export interface AudioJobRecord {
  uid: string;
  namespace: string;
  name: string;
  workflowId: string;
  phase: AudioJobPhase;
  stage: string | null;
  progress: number;
  message: string | null;
  failureReason: string | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

export interface AudioResultRecord {
  jobUid: string;
  durationS: number | null;
  tempoBpm: number | null;
  tempoConfidence: number | null;
  keyLabel: string | null;
  keyConfidence: number | null;
  loudnessLufs: number | null;
  features: Record<string, unknown>;
  stems: Record<string, string>;
  model: string | null;
  createdAt: Date;
}

export const AudioJobEntity = new EntitySchema<AudioJobRecord>({
  name: 'AudioJob',
  tableName: 'audio_jobs',
  columns: {
    uid: { type: 'uuid', primary: true },
    namespace: { type: 'text' },
    name: { type: 'text' },
    workflowId: { type: 'text', name: 'workflow_id', unique: true },
    phase: { type: 'text' },
    stage: { type: 'text', nullable: true },
    progress: { type: 'real', default: 0 },
    message: { type: 'text', nullable: true },
    failureReason: { type: 'text', name: 'failure_reason', nullable: true },
    createdAt: { type: 'timestamptz', name: 'created_at', createDate: true },
    updatedAt: { type: 'timestamptz', name: 'updated_at', updateDate: true },
    completedAt: { type: 'timestamptz', name: 'completed_at', nullable: true },
  },
});

export const AudioResultEntity = new EntitySchema<AudioResultRecord>({
  name: 'AudioResult',
  tableName: 'audio_results',
  columns: {
    jobUid: { type: 'uuid', name: 'job_uid', primary: true },
    durationS: { type: 'double precision', name: 'duration_s', nullable: true },
    tempoBpm: { type: 'double precision', name: 'tempo_bpm', nullable: true },
    tempoConfidence: { type: 'double precision', name: 'tempo_confidence', nullable: true },
    keyLabel: { type: 'text', name: 'key_label', nullable: true },
    keyConfidence: { type: 'double precision', name: 'key_confidence', nullable: true },
    loudnessLufs: { type: 'double precision', name: 'loudness_lufs', nullable: true },
    features: { type: 'jsonb', default: () => `'{}'::jsonb` },
    stems: { type: 'jsonb', default: () => `'{}'::jsonb` },
    model: { type: 'text', nullable: true },
    createdAt: { type: 'timestamptz', name: 'created_at', createDate: true },
  },
});
