import InventoryService
import Foundation
import ServiceRuntime

await ServiceLauncher.main(InventoryService.self, environment: ProcessInfo.processInfo.environment)
