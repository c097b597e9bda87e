/**
 * The GraphQL schema (SDL). Devices and audio jobs are read from informer caches of the custom
 * resources; metric history and configuration backups from PostgreSQL. Lists that can grow are
 * Relay connections; 64-bit numbers (sequences, nanosecond timestamps) travel as strings.
 */
export const typeDefs = /* GraphQL */ `
  "RFC 3339 date-time, e.g. 2025-01-31T12:00:00.000Z."
  scalar DateTime
  "Any JSON value."
  scalar JSON
  "A per-device live sequence: a 53-bit integer as a decimal string."
  scalar Sequence

  type Query {
    "Devices visible to the caller. Without namespace, every namespace where the caller may list devices."
    devices(
      namespace: String
      "Kubernetes label selector, e.g. 'site=ams,role in (leaf,spine)'."
      labelSelector: String
      condition: ConditionFilter
      phase: DevicePhase
      first: Int = 50
      after: String
    ): DeviceConnection!
    device(namespace: String!, name: String!): Device
    "Downsampled history of one path of a device; one series per label set."
    series(input: SeriesInput!): [Series!]!
    configBackups(
      namespace: String!
      device: String!
      first: Int = 20
      after: String
    ): ConfigBackupConnection!
    configDiff(namespace: String!, device: String!, from: ID!, to: ID!, context: Int = 3): ConfigDiff!
    audioJobs(namespace: String, phase: AudioJobPhase, first: Int = 50, after: String): AudioJobConnection!
    audioJob(namespace: String!, name: String!): AudioJob
  }

  type Mutation {
    "Creates the AudioJob custom resource (validated by the apiserver, strict field validation)."
    createAudioJob(input: CreateAudioJobInput!): AudioJob!
    "Deletes the AudioJob custom resource; true when it existed."
    deleteAudioJob(namespace: String!, name: String!): Boolean!
    "Asks the device's worker for a configuration backup now (annotates the Device)."
    triggerBackup(namespace: String!, name: String!): BackupRequest!
  }

  type Subscription {
    """
    Values a device's worker commits, in sequence order. Pass the last sequence received as
    sinceSequence to resume after a reconnect without gaps inside the retention window.
    """
    deviceUpdates(
      namespace: String!
      name: String!
      pathPrefix: String
      sinceSequence: Sequence
    ): DeviceUpdate!
    "Devices whose status changes (every namespace visible to the caller when namespace is null)."
    deviceStatus(namespace: String): Device!
    "The job each time its status changes; completes when it reaches a terminal phase."
    audioJobProgress(namespace: String!, name: String!): AudioJob!
    """
    Who watches the object live (its deviceUpdates or audioJobProgress subscriptions, on any API
    replica): the set now, then each time someone joins or leaves. A replica that dies takes its
    watchers with it within seconds. Needs get on the object.
    """
    watchersChanged(kind: WatchedKind!, namespace: String!, name: String!): WatchersChange!
  }

  enum WatchedKind {
    Device
    AudioJob
  }

  "A Kubernetes user watching an object live, since their first open subscription on it."
  type Watcher {
    user: String!
    since: DateTime!
  }

  type WatchersChange {
    kind: WatchedKind!
    namespace: String!
    name: String!
    watchers: [Watcher!]!
    "Since the last change (all of them, first)."
    joined: [Watcher!]!
    left: [Watcher!]!
  }

  type PageInfo {
    hasNextPage: Boolean!
    endCursor: String
  }

  enum DevicePhase {
    Pending
    Connecting
    Connected
    Degraded
    Failed
  }

  enum ConditionStatus {
    True
    False
    Unknown
  }

  input ConditionFilter {
    type: String!
    status: ConditionStatus = True
  }

  type Condition {
    type: String!
    status: ConditionStatus!
    reason: String!
    message: String!
    lastTransitionTime: DateTime!
    observedGeneration: Int
  }

  type Label {
    name: String!
    value: String!
  }

  type DeviceConnection {
    edges: [DeviceEdge!]!
    nodes: [Device!]!
    pageInfo: PageInfo!
    totalCount: Int!
  }

  type DeviceEdge {
    cursor: String!
    node: Device!
  }

  enum Protocol {
    gnmi
    netconf
  }

  type Device {
    namespace: String!
    name: String!
    uid: ID!
    "Who watches it live now (any API replica); needs get on it."
    watchers: [Watcher!]!
    labels: [Label!]!
    address: String!
    port: Int!
    protocol: Protocol!
    status: DeviceStatus!
    "The newest value of each path (and label set) under pathPrefix, from PostgreSQL."
    latestValues(pathPrefix: String, first: Int = 100): [MetricValue!]!
    configBackups(first: Int = 20, after: String): ConfigBackupConnection!
  }

  type DeviceStatus {
    phase: DevicePhase
    conditions: [Condition!]!
    workerPod: String
    lastSampleTime: DateTime
    updatesPerSecond: Float
    lastBackupTime: DateTime
    lastBackupHash: String
    observedGeneration: Int
  }

  type MetricValue {
    path: String!
    labels: JSON!
    timestamp: DateTime!
    "Nanoseconds since the epoch, as the switch reported them."
    timestampNs: String!
    "Numeric value (counters, gauges, booleans as 0/1)."
    value: Float
    "Value as text for strings and enums; the number's text otherwise."
    text: String
    deleted: Boolean!
  }

  enum Aggregation {
    min
    max
    avg
    last
    "Per-second increase of a counter between buckets (resets handled)."
    rate
  }

  input SeriesInput {
    namespace: String!
    device: String!
    path: String!
    "Only series whose labels contain these (JSON object of strings)."
    labels: JSON
    from: DateTime!
    to: DateTime!
    "Target number of points; the bucket is (to - from) / points, at least 1 s. Default 500."
    points: Int
    "A fixed bucket instead of points, as a duration: '10s', '5m'."
    bucket: String
  }

  type Series {
    path: String!
    labels: JSON!
    bucketSeconds: Float!
    points: [SeriesPoint!]!
  }

  type SeriesPoint {
    time: DateTime!
    count: Int!
    min: Float
    max: Float
    avg: Float
    last: Float
    rate: Float
  }

  type ConfigBackup {
    id: ID!
    takenAt: DateTime!
    contentHash: String!
    sizeBytes: Int!
    format: String!
    trigger: String!
    content: String!
  }

  type ConfigBackupConnection {
    edges: [ConfigBackupEdge!]!
    nodes: [ConfigBackup!]!
    pageInfo: PageInfo!
  }

  type ConfigBackupEdge {
    cursor: String!
    node: ConfigBackup!
  }

  type ConfigDiff {
    from: ConfigBackup!
    to: ConfigBackup!
    "Unified diff."
    patch: String!
    hunks: [DiffHunk!]!
    additions: Int!
    deletions: Int!
  }

  type DiffHunk {
    oldStart: Int!
    oldLines: Int!
    newStart: Int!
    newLines: Int!
    lines: [String!]!
  }

  type BackupRequest {
    namespace: String!
    name: String!
    requestedAt: DateTime!
  }

  type DeviceUpdate {
    namespace: String!
    name: String!
    """
    The batch's sequence. On a gap marker, the sequence just below the first batch after the gap
    (gap.resumedAt): resuming from the last sequence received, marker or batch, loses nothing.
    """
    sequence: Sequence!
    committedAt: DateTime!
    values: [MetricValue!]!
    "Messages dropped for this subscriber (too slow) since its previous update."
    dropped: Int!
    "Set when updates between two sequences could not be delivered (older than the retention window)."
    gap: SequenceGap
  }

  type SequenceGap {
    afterSequence: Sequence!
    resumedAt: Sequence!
    reason: String!
  }

  enum AudioJobPhase {
    Pending
    Running
    Succeeded
    Failed
    Cancelled
  }

  enum AudioJobStage {
    download
    separate
    analyze
  }

  type AudioJobConnection {
    edges: [AudioJobEdge!]!
    nodes: [AudioJob!]!
    pageInfo: PageInfo!
    totalCount: Int!
  }

  type AudioJobEdge {
    cursor: String!
    node: AudioJob!
  }

  type AudioJob {
    namespace: String!
    name: String!
    uid: ID!
    "Who watches it live now (any API replica); needs get on it."
    watchers: [Watcher!]!
    createdAt: DateTime
    source: AudioSource!
    "The full spec as stored."
    spec: JSON!
    phase: AudioJobPhase
    stage: AudioJobStage
    "0..100 over all stages."
    progress: Float!
    workflowId: String
    startTime: DateTime
    completionTime: DateTime
    conditions: [Condition!]!
    results: AudioJobResults
  }

  type AudioSource {
    url: String
    spotifyTrackId: String
    storagePath: String
  }

  type AudioJobResults {
    bpm: Float
    key: String
    loudness: Float
    durationSeconds: Float
    stems: [Stem!]!
  }

  type Stem {
    name: String!
    "Storage key (under namespaces/<namespace>/jobs/<uid>/)."
    path: String!
    "Container format, from the file's header: wav."
    format: String
    contentType: String
    bytes: Float
    durationSeconds: Float
    "Hex sha256 of the bytes the separator wrote: compare a download against it."
    sha256: String
    """
    Where to download the stem. Object storage: a presigned URL, valid until urlExpiresAt.
    Volume: the API's download route, which takes the same bearer token and the same RBAC
    (get audiojobs in the job's namespace). Null when this API has no access to audio storage.
    """
    url: String
    urlExpiresAt: DateTime
  }

  input AudioSourceInput {
    url: String
    spotifyTrackId: String
    storagePath: String
  }

  input CreateAudioJobInput {
    namespace: String!
    name: String!
    source: AudioSourceInput!
    "AudioJob spec.stages as JSON (separate, analyze); validated by the CRD schema."
    stages: JSON!
    priority: Int
    outputPrefix: String
    "spec.timeouts as JSON."
    timeouts: JSON
  }
`;
