/// `MetricsType`: what an evaluation pass reports.
///
/// ```swift
/// let solver = Solver(metricsSpec: [.auc: 0.8025])   // stop once AUC exceeds 0.8025
/// ```
public enum MetricsType: String, Sendable, Codable, CaseIterable, Comparable {
    case auc = "AUC", averageLoss = "AverageLoss", hitRate = "HitRate", ndcg = "NDCG", smape = "SMAPE"

    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
