import InventoryService
import Foundation
import ServiceRuntime

// An import batch allocates megabytes and frees them before the next one.
MallocTuning.limitArenas()
MallocTuning.keepFreedMemory(upTo: 64 * 1024 * 1024)
await ServiceLauncher.main(InventoryService.self, environment: ProcessInfo.processInfo.environment)
