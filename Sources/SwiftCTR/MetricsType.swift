/// `MetricsType`: what an evaluation pass reports.
public enum MetricsType: String, Sendable, Codable, CaseIterable, Comparable {
    case auc = "AUC", averageLoss = "AverageLoss", hitRate = "HitRate", ndcg = "NDCG", smape = "SMAPE"

    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
